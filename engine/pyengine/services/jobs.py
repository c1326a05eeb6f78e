"""Long jobs on the event loop: a job runs in the worker pool and reports progress to a
`LoopChannel`, whose reports the gRPC edge reads as an async stream. `Jobs` tracks the open
channels so a shutdown cancels them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from pyengine.progress import BACKLOG, NullChannel, ProgressChannel, Report
from pyengine.services.workers import Workers, pump

_WAKE = object()
T = TypeVar("T")


class LoopChannel(ProgressChannel):
    """A progress channel written from a worker thread and read on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._reports: asyncio.Queue[object] = asyncio.Queue()

    def _put(self, report: Report, droppable: bool) -> None:
        if droppable and self._reports.qsize() >= BACKLOG:
            return
        self._call(self._reports.put_nowait, report)

    def cancel(self) -> None:
        super().cancel()
        self._call(self._reports.put_nowait, _WAKE)  # a reader waiting stops at once

    def _call(self, fn: Callable[[object], None], item: object) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, item)
        except RuntimeError:  # the loop is closed: nobody reads any more
            pass

    async def stream(
        self, workers: Workers, job: Callable[[ProgressChannel], Any]
    ) -> AsyncGenerator[Report, None]:
        """Run `job(self)` in the pool; yield its reports; re-raise its error at the end.

        If the reader goes away (the client cancelled) or the channel is cancelled (shutdown),
        the job is told through the channel and unwinds at its next report.
        """

        def target() -> Any:
            self.check()  # cancelled while it waited for a slot
            return job(self)

        async with aclosing(pump(workers, target, self._reports, self.cancel)) as items:
            async for item in items:
                if item is _WAKE:
                    self.check()
                    continue
                assert isinstance(item, Report)
                yield item


class Jobs:
    """The open progress channels; `cancel_all` on shutdown. Used on the loop only."""

    def __init__(self) -> None:
        self._channels: set[LoopChannel] = set()
        self.stopping = False

    def open(self) -> LoopChannel:
        """A channel cancelled when the daemon stops."""
        channel = LoopChannel(asyncio.get_running_loop())
        self._channels.add(channel)
        if self.stopping:
            channel.cancel()
        return channel

    def close(self, channel: LoopChannel) -> None:
        self._channels.discard(channel)

    async def stream(
        self, workers: Workers, job: Callable[[ProgressChannel], Any]
    ) -> AsyncGenerator[Report, None]:
        """Run `job` on a channel of its own (cancelled with the daemon); its reports."""
        channel = self.open()
        try:
            async with aclosing(channel.stream(workers, job)) as reports:
                async for report in reports:
                    yield report
        finally:
            self.close(channel)

    async def quiet(self, workers: Workers, job: Callable[[NullChannel], T]) -> T:
        """A long job without a progress stream, cancelled with the call or the daemon."""
        channel = self.open()
        try:
            return await workers.run_long(job, NullChannel(channel.cancel_event))
        except asyncio.CancelledError:
            channel.cancel()
            raise
        finally:
            self.close(channel)

    def cancel_all(self) -> None:
        self.stopping = True
        for channel in list(self._channels):
            channel.cancel()
