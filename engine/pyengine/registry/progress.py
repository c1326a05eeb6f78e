"""Progress events of pulls and pushes, in docker's vocabulary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WAITING = "Waiting"
DOWNLOADING = "Downloading"
VERIFYING = "Verifying Checksum"
DOWNLOAD_COMPLETE = "Download complete"
ALREADY_EXISTS = "Already exists"
PREPARING = "Preparing"
PUSHING = "Pushing"
PUSHED = "Pushed"
LAYER_EXISTS = "Layer already exists"
MOUNTED_FROM = "Mounted from"  # the event's action is "Mounted from <repository>"


@dataclass(frozen=True)
class ProgressEvent:
    id: str  # 12-hex-character short digest
    action: str
    current: int = 0
    total: int = 0


ProgressCallback = Callable[[ProgressEvent], None]


class Reporter:
    """Thread-safe wrapper: serialises callbacks and throttles byte counts (~10 per second)."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self._callback = callback
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def emit(self, short_id: str, action: str, current: int = 0, total: int = 0) -> None:
        if self._callback is None:
            return
        with self._lock:
            self._callback(ProgressEvent(short_id, action, current, total))

    def bytes(self, short_id: str, action: str, current: int, total: int) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        last = self._last.get(short_id, 0.0)
        if current < total and now - last < self._interval:
            return
        self._last[short_id] = now
        self.emit(short_id, action, current, total)
