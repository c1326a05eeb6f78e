"""Byte streams over gRPC on the event loop: spool a client stream to a file, pipe a writer
running in the worker pool into server-stream chunks."""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.errors import InvalidArgument
from pyengine.progress import Cancelled
from pyengine.services.workers import Workers, pump

if TYPE_CHECKING:
    from typing_extensions import Buffer

CHUNK = 1 << 20
SLOTS = 8  # chunks written but not yet sent


async def spool(chunks: AsyncIterator[bytes], directory: Path, limit: int,
                workers: Workers) -> Path:
    """Write `chunks` to a new file in `directory`; the caller deletes it."""
    fd, name = await workers.run(tempfile.mkstemp, dir=directory, prefix="upload-")
    total = 0
    out = os.fdopen(fd, "wb")
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > limit:
                raise InvalidArgument(f"upload larger than the limit of {limit} bytes")
            await workers.run(out.write, chunk)
        await workers.run(out.close)
    except BaseException:
        out.close()
        os.unlink(name)
        raise
    return Path(name)


class ChunkPipe(io.BufferedIOBase):
    """A write-only file object for a job in the pool; `run()` yields what it writes, on the
    loop. At most SLOTS chunks wait unsent: a slow reader slows the writer down."""

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._chunks: asyncio.Queue[object] = asyncio.Queue()
        self._slots = threading.Semaphore(SLOTS)
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

    def _put(self, item: bytes) -> None:
        while not self._slots.acquire(timeout=0.5):
            if self.cancelled.is_set():
                raise Cancelled("the reader went away")
        if self.cancelled.is_set():
            raise Cancelled("the reader went away")
        self._loop.call_soon_threadsafe(self._chunks.put_nowait, item)

    def flush(self) -> None:
        pass

    async def run(self, workers: Workers, job: Callable[[ChunkPipe], None]
                  ) -> AsyncGenerator[bytes, None]:
        """Run `job(self)` in the pool; yield what it writes; re-raise its error."""

        def target() -> None:
            job(self)
            if self._buffer:
                self._put(bytes(self._buffer))

        async with aclosing(pump(workers, target, self._chunks, self.cancelled.set)) as items:
            async for item in items:
                self._slots.release()
                assert isinstance(item, bytes)
                yield item
