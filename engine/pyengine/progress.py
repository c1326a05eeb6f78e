"""Progress reports of long operations and their cancellation.

A job (pull, push) runs in a worker thread and reports `ProgressEvent`s to a `ProgressChannel`;
the gRPC edge drains the channel into a server stream. Cancelling the channel (client gone,
daemon shutting down) makes the next report raise `Cancelled` inside the job, which unwinds it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pyengine.errors import EngineError


class Cancelled(EngineError):
    """The operation was cancelled (the client went away or the daemon is stopping)."""


@dataclass(frozen=True)
class Report:
    """One progress line: a per-object status (id set) or a whole-operation message."""

    id: str
    status: str
    current: int = 0
    total: int = 0
    result: str = ""


_DONE = object()
POLL_SECONDS = 0.2
BACKLOG = 4096
DROPPABLE = ("Downloading", "Extracting", "Pushing")


class ProgressChannel:
    """Thread-safe report queue with a cancel flag, shared by a job and the stream reader."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=BACKLOG)
        self.cancel_event = cancel or threading.Event()

    def report(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        self.check()
        # byte counters are droppable when the reader lags, state changes are not
        self._put(Report(id, status, current, total), status in DROPPABLE)

    def finish(self, result: str) -> None:
        """The last report of a job: its result (name pulled, digest pushed)."""
        self._put(Report("", "", 0, 0, result), False)

    def _put(self, report: Report, droppable: bool) -> None:
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            if not droppable:
                self._queue.put(report)

    def check(self) -> None:
        """Raise Cancelled if the channel was cancelled."""
        if self.cancel_event.is_set():
            raise Cancelled("operation cancelled")

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self, job: Callable[[ProgressChannel], Any]) -> Iterator[Report]:
        """Run `job(self)` in a thread; yield its reports; re-raise its error at the end.

        When the channel is cancelled the reader stops at once (raising Cancelled) even if
        the job is blocked; the job notices at its next report and unwinds on its own.
        """
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["result"] = job(self)
            except BaseException as err:  # re-raised in the reader's thread
                outcome["error"] = err
            finally:
                self._queue.put(_DONE)

        worker = threading.Thread(target=target, name="job", daemon=True)
        worker.start()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    self.check()
                    continue
                if item is _DONE:
                    break
                yield item
        finally:
            if worker.is_alive():
                self.cancel()  # the reader went away: make the job stop at its next report
        if "error" in outcome:
            raise outcome["error"]


class NullChannel(ProgressChannel):
    """A channel that drops reports (for calls made without a progress stream)."""

    def report(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        self.check()
