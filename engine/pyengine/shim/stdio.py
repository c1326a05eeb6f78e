"""A process' standard streams as containerd hands them to the shim: paths of fifos the client
reads and writes (ctr, the engine), `file:///path` (stdout and stderr both appended to that
file, as containerd's runc shim does), or empty for /dev/null. `binary://` logging drivers are
not supported yet (InvalidArgument).

Without a terminal, stdout and stderr fifos go to the process as they are (no copy through the
shim); stdin is copied from its fifo into a pipe, so that CloseIO can end it (the shim holds the
fifo open read-write: a client re-opening it never makes the process see a premature end).
With a terminal, the runtime sends the pty master over a console socket and the shim copies
stdin fifo -> master and master -> stdout fifo; the stdout fifo is closed when the terminal
ends (EIO once the last process holding the slave is gone).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import os
import socket
import struct
import tempfile
import termios

from .runtime import Stdio
from .ttrpc import errors


class Pump:
    """Copies one fd to another on the event loop until the source ends (or, once finish() is
    called, until it has nothing more to give right now)."""

    def __init__(self, src: int, dst: int, close_src: bool, close_dst: bool) -> None:
        self.src, self.dst = src, dst
        self.close_src, self.close_dst = close_src, close_dst
        self._finishing = False
        self._wake: asyncio.Future[None] | None = None
        os.set_blocking(src, False)
        os.set_blocking(dst, False)
        self.task = asyncio.get_running_loop().create_task(self._run())

    def finish(self) -> None:
        self._finishing = True
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _wait(self, fd: int, writable: bool) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._wake = fut
        add, remove = (loop.add_writer, loop.remove_writer) if writable else \
            (loop.add_reader, loop.remove_reader)
        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        add(fd, ready)
        try:
            await fut
        finally:
            remove(fd)
            self._wake = None

    async def _run(self) -> None:
        try:
            while True:
                try:
                    data = os.read(self.src, 65536)
                except BlockingIOError:
                    if self._finishing:
                        break
                    await self._wait(self.src, writable=False)
                    continue
                except OSError:  # EIO: the terminal's last slave is closed
                    break
                if not data:
                    break
                view = memoryview(data)
                while view:
                    try:
                        view = view[os.write(self.dst, view):]
                    except BlockingIOError:
                        await self._wait(self.dst, writable=True)
                    except OSError:  # the reader is gone: drop the output
                        return
        finally:
            if self.close_src:
                _close(self.src)
            if self.close_dst:
                _close(self.dst)


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _open_output(uri: str) -> int:
    if not uri:
        return os.open(os.devnull, os.O_WRONLY)
    if uri.startswith("file://"):
        path = uri.removeprefix("file://")
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    if "://" in uri and not uri.startswith("fifo://"):
        raise errors.InvalidArgument(f"stdio {uri}: scheme not supported by this shim")
    # Read-write: opening never waits for a reader, and the client's reader sees the end once
    # the process (and the shim, which closes its copy after the spawn) let go.
    return os.open(uri.removeprefix("fifo://"), os.O_RDWR)


class ProcessIO:
    def __init__(self, terminal: bool) -> None:
        self.terminal = terminal
        self.child = Stdio(-1, -1, -1)
        self._after_spawn: list[int] = []  # the child's copies, closed once it has them
        self._fds: list[int] = []  # the shim's own, closed by close()
        self._pumps: list[Pump] = []
        self._stdin_pump: Pump | None = None
        self._stdin_fifo = -1
        self._stdin_pipe = -1
        self._stdout = -1
        self._console: socket.socket | None = None
        self._console_dir = ""
        self.master = -1

    @classmethod
    def open(cls, stdin: str, stdout: str, stderr: str, terminal: bool) -> ProcessIO:
        io = cls(terminal)
        try:
            io._open(stdin, stdout, stderr)
        except OSError as e:
            io.close()
            raise errors.InvalidArgument(f"opening stdio: {e}") from None
        except BaseException:
            io.close()
            raise
        return io

    def _open(self, stdin: str, stdout: str, stderr: str) -> None:
        if stdin:
            self._stdin_fifo = os.open(stdin.removeprefix("fifo://"), os.O_RDWR)
            self._fds.append(self._stdin_fifo)
        if self.terminal:
            null = os.open(os.devnull, os.O_RDWR)
            self._after_spawn.append(null)
            self.child = Stdio(null, null, null)
            self._stdout = _open_output(stdout)
            self._fds.append(self._stdout)
            self._console_dir = tempfile.mkdtemp(prefix="pyshim-")
            self._console = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._console.bind(os.path.join(self._console_dir, "console.sock"))
            self._console.listen(1)
            return
        if stdin:
            read_end, self._stdin_pipe = os.pipe()
            self._after_spawn.append(read_end)
            child_in = read_end
        else:
            child_in = os.open(os.devnull, os.O_RDONLY)
            self._after_spawn.append(child_in)
        child_out = _open_output(stdout)
        self._after_spawn.append(child_out)
        if stdout.startswith("file://") and (not stderr or stderr == stdout):
            child_err = child_out
        else:
            child_err = _open_output(stderr)
            self._after_spawn.append(child_err)
        self.child = Stdio(child_in, child_out, child_err)

    @property
    def console_path(self) -> str | None:
        return os.path.join(self._console_dir, "console.sock") if self._console_dir else None

    def spawned(self) -> None:
        """The runtime has the child's streams: close our copies, start copying stdin."""
        for fd in self._after_spawn:
            _close(fd)
        self._after_spawn = []
        if self._stdin_pipe >= 0:
            self._stdin_pump = Pump(self._stdin_fifo, self._stdin_pipe, close_src=False,
                                    close_dst=True)
            self._stdin_pipe = -1

    async def receive_console(self) -> None:
        """Take the pty master the runtime sent and start copying to and from it."""
        assert self._console is not None
        loop = asyncio.get_running_loop()
        self._console.setblocking(False)
        conn, _ = await asyncio.wait_for(loop.sock_accept(self._console), 30)
        with conn:
            conn.setblocking(True)
            conn.settimeout(30)
            fds = array.array("i")
            _, ancdata, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        if not fds:
            raise errors.Internal("console socket: the runtime sent no terminal")
        self.master = fds[0]
        self._close_console()
        self._pumps.append(Pump(self.master, self._stdout, close_src=False, close_dst=True))
        self._stdout = -1
        if self._stdin_fifo >= 0:
            self._stdin_pump = Pump(self._stdin_fifo, self.master, close_src=False,
                                    close_dst=False)

    def _close_console(self) -> None:
        if self._console is not None:
            self._console.close()
            self._console = None
        if self._console_dir:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self._console_dir, "console.sock"))
            with contextlib.suppress(OSError):
                os.rmdir(self._console_dir)
            self._console_dir = ""

    def close_stdin(self) -> None:
        """CloseIO: what the client wrote still reaches the process, then its stdin ends."""
        if self._stdin_pump is not None:
            self._stdin_pump.finish()

    def resize(self, width: int, height: int) -> None:
        if self.master < 0:  # containerd's runc shim: nothing to do, and no error
            return
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    async def drained(self) -> None:
        """Output copied to the end (terminal only; without one the process writes itself)."""
        if self._pumps:
            await asyncio.gather(*(p.task for p in self._pumps), return_exceptions=True)

    def close(self) -> None:
        for pump in [*self._pumps, *([self._stdin_pump] if self._stdin_pump else [])]:
            pump.task.cancel()
        for fd in [*self._after_spawn, *self._fds, self._stdin_pipe, self._stdout, self.master]:
            if fd >= 0:
                _close(fd)
        self._after_spawn, self._fds = [], []
        self._stdin_pipe = self._stdout = self.master = -1
        self._close_console()
