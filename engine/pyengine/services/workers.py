"""The daemon's one bounded pool for blocking work (SQLite, file I/O, decompression, registry
transfers). The event loop never blocks: handlers `await workers.run(...)`.

Long jobs (pull, push, load, import, save) also take a slot of `long_slots` first, so however
many of them run, `size - long_slots` workers stay free for short calls (list, inspect, tag).
A job waiting for a slot waits on the loop, not in a thread.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

SIZE = 32
LONG_SLOTS = 24
_END = object()


class Workers:
    def __init__(self, size: int = SIZE, long_slots: int = LONG_SLOTS) -> None:
        self.size = size
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="worker")
        self._long = asyncio.Semaphore(min(long_slots, size - 1))

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make this pool the loop's default executor (what `asyncio.to_thread` uses)."""
        loop.set_default_executor(self.executor)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short blocking call in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def run_long(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a long blocking job in the pool once a long-job slot is free."""
        async with self._long:
            return await self.run(fn, *args, **kwargs)

    def shutdown(self) -> None:
        """Stop taking work; threads still blocked (a transfer on the network) are left."""
        self.executor.shutdown(wait=False, cancel_futures=True)


async def pump(
    workers: Workers, target: Callable[[], Any], queue: asyncio.Queue[object],
    abandon: Callable[[], None],
) -> AsyncGenerator[object, None]:
    """Run `target` as a long job; yield what it puts on `queue` (through the loop) until it
    returns; then re-raise its error, if any. A consumer that stops early (the client went
    away) calls `abandon()`, which must make `target` stop soon; its outcome is then dropped.
    Use under `contextlib.aclosing` so that happens at once."""
    task = asyncio.ensure_future(workers.run_long(target))
    task.add_done_callback(lambda _: queue.put_nowait(_END))
    finished = False
    try:
        while True:
            item = await queue.get()
            if item is _END:
                finished = True
                break
            yield item
    finally:
        if not finished:
            abandon()
            task.add_done_callback(_retrieve)
    task.result()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Consume the outcome of a job nobody waits for any more (no "never retrieved" noise)."""
    if not task.cancelled():
        task.exception()
