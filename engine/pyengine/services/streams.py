"""Byte streams over gRPC: spool a client stream to a file, pipe a writer into chunks."""

from __future__ import annotations

import io
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyengine.errors import InvalidArgument
from pyengine.progress import Cancelled

if TYPE_CHECKING:
    from typing_extensions import Buffer

CHUNK = 1 << 20
_END = object()


def spool(chunks: Iterable[bytes], directory: Path, limit: int) -> Path:
    """Write `chunks` to a new file in `directory`; the caller deletes it."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                total += len(chunk)
                if total > limit:
                    raise InvalidArgument(f"upload larger than the limit of {limit} bytes")
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


class ChunkPipe(io.BufferedIOBase):
    """A write-only file object whose data comes out of `run()` in the reader's thread."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self._buffer = bytearray()
        self.cancelled = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer, /) -> int:
        if self.cancelled.is_set():
            raise Cancelled("the reader went away")
        view = memoryview(data)
        self._buffer += view
        while len(self._buffer) >= CHUNK:
            self._put(bytes(self._buffer[:CHUNK]))
            del self._buffer[:CHUNK]
        return view.nbytes

    def _put(self, item: Any) -> None:
        while True:
            if self.cancelled.is_set():
                raise Cancelled("the reader went away")
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def flush(self) -> None:
        pass

    def run(self, job: Callable[[ChunkPipe], None]) -> Iterator[bytes]:
        """Run `job(self)` in a thread; yield what it writes; re-raise its error."""
        outcome: dict[str, BaseException] = {}

        def target() -> None:
            try:
                job(self)
                if self._buffer:
                    self._put(bytes(self._buffer))
            except BaseException as err:
                outcome["error"] = err
            finally:
                try:
                    self._put(_END)
                except Cancelled:
                    pass

        worker = threading.Thread(target=target, name="pipe", daemon=True)
        worker.start()
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    break
                yield item
        finally:
            self.cancelled.set()
            worker.join()
        if "error" in outcome:
            raise outcome["error"]
