"""One build as an async stream of its events, for every edge (gRPC, REST): the build runs as
a task whose events are yielded as they come, then its outcome: a `BuildResultValue`, or a
`BuildFailed` naming the last step started (the edge reports it, then raises `error`). A
reader that goes away cancels the task, which undoes everything (BuilderService.build's
finally)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyengine.build.errors import StepFailed
from pyengine.build.options import BuildEventValue, BuildOptions, BuildResultValue, StepStarted

if TYPE_CHECKING:
    from pyengine.build.service import BuilderService


@dataclass(frozen=True)
class BuildFailed:
    index: int  # the last step started (0: none)
    message: str
    exit_code: int  # a failed RUN's exit code, else 0
    error: BaseException


BuildItem = BuildEventValue | BuildResultValue | BuildFailed


async def run_build(service: BuilderService, options: BuildOptions,
                    context: AsyncIterator[bytes]) -> AsyncGenerator[BuildItem, None]:
    """The build's events, then its result or failure (always last)."""
    queue: asyncio.Queue[BuildEventValue | None] = asyncio.Queue()
    last_step = 0

    async def run() -> BuildResultValue:
        try:
            return await service.build(options, context, queue.put_nowait)
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(run())
    try:
        while (event := await queue.get()) is not None:
            if isinstance(event, StepStarted):
                last_step = event.index
            yield event
        try:
            result = await task
        except Exception as err:
            code = err.exit_code if isinstance(err, StepFailed) else 0
            yield BuildFailed(last_step, str(err), code, err)
            return
        yield result
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
