"""Tracks in-flight jobs so a shutdown can cancel them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pyengine.progress import ProgressChannel

if TYPE_CHECKING:
    import grpc


class Jobs:
    """The set of running progress channels; `cancel_all` on shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: set[ProgressChannel] = set()
        self.stopping = threading.Event()

    def open(self, context: grpc.RpcContext | None) -> ProgressChannel:
        """A channel cancelled when the client goes away or the daemon stops."""
        channel = ProgressChannel()
        if context is not None:
            context.add_callback(channel.cancel)
        with self._lock:
            self._channels.add(channel)
            if self.stopping.is_set():
                channel.cancel()
        return channel

    def close(self, channel: ProgressChannel) -> None:
        with self._lock:
            self._channels.discard(channel)

    def cancel_all(self) -> None:
        with self._lock:
            self.stopping.set()
            for channel in self._channels:
                channel.cancel()
