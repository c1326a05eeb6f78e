"""Reading a fifo on the event loop: the loop watches the descriptor (add_reader), this reads
it and closes it, once.

Not `loop.connect_read_pipe`: its transport takes the descriptor over, and uvloop's closes it
twice (libuv closes it, then the attached file object closes the same number again). In a daemon
whose worker threads open files all the time, that number may meanwhile be another thread's:
a shim's `start` pipe, a fifo, the database. (Seen under 100 parallel runs: a shim start that
never answered, Task.Create that never returned, EBADF in unrelated calls.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator

CHUNK = 65536


async def chunks(fd: int, size: int = CHUNK) -> AsyncGenerator[bytes, None]:
    """The chunks of non-blocking `fd` (a fifo's read end) until all its writers closed it; `fd`
    is closed when the reading ends (EOF, an error, or the consumer closing this generator:
    use it under `contextlib.aclosing`). A consumer that waits between chunks is back-pressure:
    nothing is read meanwhile, and the writer blocks once the pipe is full."""
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    try:
        while True:
            # only once the loop says so: before any writer opened it, a fifo reads as EOF
            await readable.wait()
            try:
                data = os.read(fd, size)
            except BlockingIOError:
                readable.clear()
                continue
            if not data:  # every writer came and went
                return
            yield data
    finally:
        loop.remove_reader(fd)
        os.close(fd)
