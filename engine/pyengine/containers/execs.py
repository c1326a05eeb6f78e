"""Interactive exec: a further process in a running container with stdin, a terminal, window
resizes and detaching, through the container's shim (ExecProcess, Start, ResizePty, CloseIO,
Wait, Delete of an exec id).

The engine makes the exec's fifos in the bundle (`exec-<id>-{stdin,stdout,stderr}.fifo`; with a
terminal only stdout: the shim copies the pty there). Its output goes to a Fanout, so the
client attached to it is an attach.Subscriber like any other and its session is attach.serve.
A task owned by the container (Live.execs) waits for the exit, then deletes the exec in the
shim and its fifos: an exec started with -d, or whose client detached or went away, runs on
and is still cleaned up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.containers import fanout as fanouts
from pyengine.errors import EngineError

if TYPE_CHECKING:
    from pyengine.containers.shims import Shim

log = logging.getLogger("pyengine.containers")


@dataclass(frozen=True)
class ExecOptions:
    args: list[str]
    env: list[str]
    workdir: str = ""
    user: str = ""
    tty: bool = False
    stdin: bool = False
    detach: bool = False
    height: int = 0  # the client's window, applied at the start (tty)
    width: int = 0


class ExecProcess:
    """One exec's process, its fifos and output; an attach.Target."""

    def __init__(self, shim: Shim, bundle: Path, exec_id: str, options: ExecOptions) -> None:
        self.shim = shim
        self.exec_id = exec_id
        self.options = options
        self.streams = ("stdout",) if options.tty else ("stdout", "stderr")
        self.fifos = {s: bundle / f"exec-{exec_id}-{s}.fifo"
                      for s in (*self.streams, *(("stdin",) if options.stdin else ()))}
        self.fanout = fanouts.Fanout()
        self.stdin_fd: int | None = None
        self.pumps: list[asyncio.Task[None]] = []
        self.status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None
        self.pid = 0  # once started

    async def start(self, process: dict) -> fanouts.Subscriber | None:
        """Start the process; the subscriber of its output (None with detach)."""
        o = self.options
        subscriber = None if o.detach else self.fanout.subscribe(self.streams)
        holders: list[int] = []
        try:
            for stream in self.streams:
                path = self.fifos[stream]
                os.mkfifo(path, 0o600)
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                holders.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
                self.pumps.append(asyncio.create_task(fanouts.pump(fd, stream, self.fanout)))
            if o.stdin:
                os.mkfifo(self.fifos["stdin"], 0o600)
                # read-write: never waits for the shim's reader, whichever shim opens it when
                self.stdin_fd = os.open(self.fifos["stdin"],
                                        os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            process = dict(process, terminal=o.tty)
            env = list(process.get("env") or [])
            if o.tty and not any(e.startswith("TERM=") for e in env):
                process["env"] = [*env, "TERM=xterm"]  # as docker's exec -t
            if o.tty and o.height > 0 and o.width > 0:
                process["consoleSize"] = {"height": o.height, "width": o.width}
            await self.shim.exec(self.exec_id, process, str(self.fifos["stdout"]),
                                 str(self.fifos.get("stderr", "")), terminal=o.tty,
                                 stdin=str(self.fifos.get("stdin", "")))
            try:
                self.pid = await self.shim.start(self.exec_id)  # the shim opens the fifos here
            except BaseException:
                with contextlib.suppress(EngineError):
                    await self.shim.delete(self.exec_id)
                raise
        except BaseException:
            self._close(holders)
            self._cleanup()
            raise
        self._close(holders)
        if o.tty and o.height > 0 and o.width > 0:
            with contextlib.suppress(EngineError):
                await self.shim.resize(o.height, o.width, self.exec_id)
        self.task = asyncio.create_task(self._run())
        return subscriber

    @staticmethod
    def _close(fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        fds.clear()

    async def _run(self) -> None:
        """Wait for the exit and the end of the output; then delete the exec."""
        stopping = False
        try:
            try:
                status, _ = await self.shim.wait(self.exec_id)
            except EngineError as err:  # the shim went away with the container
                log.info("exec: no exit status", extra={"fields": {
                    "exec": self.exec_id, "error": str(err)}})
                status = 255
            await asyncio.gather(*self.pumps, return_exceptions=True)
            self.fanout.end()
            self.status.set_result(status)
            with contextlib.suppress(EngineError):
                await self.shim.delete(self.exec_id)
        except asyncio.CancelledError:  # the daemon stops: the exec runs on, its fifos
            stopping = True  # stay for the next start (exec_recovery.py)
            raise
        finally:
            self._cleanup(keep_fifos=stopping)

    def _cleanup(self, keep_fifos: bool = False) -> None:
        for task in self.pumps:
            task.cancel()
        self.fanout.end()
        if self.stdin_fd is not None:
            os.close(self.stdin_fd)
            self.stdin_fd = None
        if not keep_fifos:
            for path in self.fifos.values():
                path.unlink(missing_ok=True)
        if not self.status.done():
            self.status.set_result(255)

    # -- attach.Target ----------------------------------------------------------------------

    async def stdin(self) -> int | None:
        return self.stdin_fd

    def stdin_is(self, fd: int) -> bool:
        return self.stdin_fd == fd

    async def close_stdin(self) -> None:
        if self.stdin_fd is not None:
            os.close(self.stdin_fd)
            self.stdin_fd = None
            await self.shim.close_stdin(self.exec_id)

    async def resize(self, height: int, width: int) -> None:
        await self.shim.resize(height, width, self.exec_id)

    async def exit_code(self) -> int:
        return await asyncio.shield(self.status)
