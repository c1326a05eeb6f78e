"""Attach sessions: a client's input to a process' stdin and the process' output back, for a
container (Attach) and for an interactive exec (execs.py), over any edge.

`serve()` runs one session: it reads the client's inputs beside the output, writes stdin data,
passes resizes on, watches for the detach keys (only with a terminal, as docker), and answers
the output chunks, then either the exit code or "detached". Detaching leaves the process and
its stdin as they are; the end of the client's input closes the process' stdin only with
`stdin_once` (docker's StdinOnce, which `run -i` sets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pyengine.containers.detachkeys import Scanner
from pyengine.errors import EngineError

if TYPE_CHECKING:
    from pyengine.containers.fanout import Subscriber
    from pyengine.containers.service import Live

log = logging.getLogger("pyengine.containers")


@dataclass(frozen=True)
class Input:
    """What a client sends after the first message: stdin data, or a window size."""

    data: bytes = b""
    height: int = 0
    width: int = 0


@dataclass(frozen=True)
class Output:
    stream: str = ""
    data: bytes = b""
    exit_code: int | None = None  # the last message: the process exited
    detached: bool = False  # the last message: the client typed the detach keys


@dataclass(frozen=True)
class Options:
    stdin: bool = False  # the client's data goes to the process' stdin
    detach_keys: bytes | None = None  # scanned for (a terminal's input); None: not scanned
    stdin_once: bool = False  # the end of the client's input closes the process' stdin
    # else, the end of the client's input ends the session, the process and its stdin left
    # as they are (docker's attach and exec over its API)
    end_with_input: bool = False


class Target(Protocol):
    """The process a session is attached to."""

    async def stdin(self) -> int | None:
        """The write end of its stdin (waiting for a start if need be); None: it has none."""

    def stdin_is(self, fd: int) -> bool:
        """Is `fd` still its stdin (not closed meanwhile by another client)?"""

    async def close_stdin(self) -> None: ...

    async def resize(self, height: int, width: int) -> None: ...

    async def exit_code(self) -> int:
        """Once it has exited (its output has ended)."""


async def write_all(fd: int, data: bytes, still_open: Callable[[int], bool]) -> bool:
    """Write `data` to a non-blocking fd, waiting for room on the loop; False when the fd is
    gone (closed meanwhile, or its reader is: EPIPE)."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        if not still_open(fd):
            return False
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_writer(fd, _set, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
        except (BrokenPipeError, OSError):
            return False
    return True


def _set(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


class _Inputs:
    """The reading half of a session (a task beside the output)."""

    def __init__(self, target: Target, options: Options, subscriber: Subscriber) -> None:
        self.target = target
        self.options = options
        self.subscriber = subscriber
        self.scanner = Scanner(options.detach_keys) if options.detach_keys else None
        self.detached = asyncio.Event()
        self.input_ended = False  # end_with_input: the client's input ended the session
        self.stdin_gone = False

    async def run(self, inputs: AsyncIterator[Input]) -> None:
        async for item in inputs:
            if item.height > 0 and item.width > 0:
                with contextlib.suppress(EngineError):
                    await self.target.resize(item.height, item.width)
            if not item.data:
                continue
            data = item.data
            if self.scanner is not None:
                data, detach = self.scanner.feed(data)
                if detach:
                    await self._stdin(data)
                    self.detached.set()
                    self.subscriber.close()
                    return
            await self._stdin(data)
        if self.scanner is not None:
            await self._stdin(self.scanner.flush())
        if self.options.stdin and self.options.stdin_once:
            await self.target.stdin()  # after the start, if the client was that quick
            with contextlib.suppress(EngineError):
                await self.target.close_stdin()
        elif self.options.stdin and self.options.end_with_input:
            self.input_ended = True
            self.subscriber.close()

    async def _stdin(self, data: bytes) -> None:
        if not data or not self.options.stdin or self.stdin_gone:
            return
        fd = await self.target.stdin()
        if fd is None or not await write_all(fd, data, self.target.stdin_is):
            self.stdin_gone = True  # the process closed it: the rest is dropped


async def serve(target: Target, subscriber: Subscriber, inputs: AsyncIterator[Input],
                options: Options) -> AsyncGenerator[Output, None]:
    """Run one session: the output chunks, then the exit code or the detach (nothing when
    the client's input ended it: `end_with_input`)."""
    reader = _Inputs(target, options, subscriber)
    reading = asyncio.create_task(reader.run(inputs))
    try:
        while (item := await subscriber.get()) is not None:
            yield Output(stream=item[0], data=item[1])
        if reader.input_ended:
            return
        if not reader.detached.is_set():
            exited = asyncio.ensure_future(target.exit_code())
            detach = asyncio.ensure_future(reader.detached.wait())
            try:
                await asyncio.wait([exited, detach], return_when=asyncio.FIRST_COMPLETED)
            finally:
                detach.cancel()
                if not exited.done():  # detached, or the client went away meanwhile
                    exited.cancel()
            if exited.done() and not exited.cancelled():
                yield Output(exit_code=exited.result())
                return
        yield Output(detached=True)
    finally:
        subscriber.close()
        if not reading.done():
            reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reading


class ContainerTarget:
    """A container's init, through what the daemon holds for it (service.Live)."""

    def __init__(self, live: Live) -> None:
        self.live = live

    async def stdin(self) -> int | None:
        await self.live.stdin_open.wait()
        return self.live.stdin

    def stdin_is(self, fd: int) -> bool:
        return self.live.stdin == fd

    async def close_stdin(self) -> None:
        self.live.close_stdin()
        if self.live.shim is not None:
            await self.live.shim.close_stdin()

    async def resize(self, height: int, width: int) -> None:
        if self.live.shim is not None:
            await self.live.shim.resize(height, width)

    async def exit_code(self) -> int:
        await self.live.exited.wait()
        return self.live.exit_code
