"""``run`` in the foreground: create + start, forward signals, proxy the terminal, wait for the
init (we are its child subreaper) and exit with its status; then delete unless --keep."""

from __future__ import annotations

import os

from pyrunc.container import Container
from pyrunc.create import CreateOptions, create
from pyrunc.errors import PyruncError

# Signals a foreground run forwards to the container's init (runc forwards all it can catch).
FORWARDED = (1, 2, 3, 10, 12, 14, 15, 20, 21, 22, 23, 24, 25, 26, 27, 29, 30, 31)
SIGCHLD, SIGWINCH = 17, 28


def run_container(opts: CreateOptions, detach: bool, keep: bool, subreaper: bool) -> int:
    from pyrunc.linux.syscalls import PR_SET_CHILD_SUBREAPER, SYS

    if not detach:
        if subreaper:
            SYS.prctl(PR_SET_CHILD_SUBREAPER, 1)
        opts.tty_to_parent = not opts.console_socket
    created = create(opts)
    container = Container.load(opts.root, opts.id)
    try:
        container.start()
    except BaseException:
        _destroy(container)
        raise
    if detach:
        return 0
    try:
        status = supervise(created.pid, created.console_master)
    finally:
        if not keep:
            _destroy(container)
    return status


def _destroy(container: Container) -> None:
    container.reload()
    try:
        container.dir.lock()
    except PyruncError:
        return
    try:
        container.destroy()
    finally:
        container.dir.unlock()


def _exit_status(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def supervise(pid: int, master: int | None) -> int:
    """Wait for ``pid`` (our child or reparented to us as subreaper), forwarding signals and
    proxying the terminal; returns its exit status (128+N when killed by signal N)."""
    import _signal

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        pending.append(signum)

    for sig in (*FORWARDED, SIGCHLD, SIGWINCH):
        try:
            _signal.signal(sig, forward)
        except (OSError, ValueError):
            pass
    _signal.set_wakeup_fd(wake_w)
    tty = _TerminalProxy(master) if master is not None else None
    try:
        while True:
            while pending:
                sig = pending.pop(0)
                if sig == SIGWINCH and tty is not None:
                    tty.resize()
                elif sig not in (SIGCHLD, SIGWINCH):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            result = _reap_all(pid)
            if result is not None:
                if tty is not None:
                    tty.drain()
                return result
            if tty is not None:
                tty.pump(wake_r)
            else:
                _wait_readable([wake_r])
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
    finally:
        _signal.set_wakeup_fd(-1)
        if tty is not None:
            tty.restore()


def _reap_all(init_pid: int) -> int | None:
    """Reap every exited child (orphans reparented to us too); the init's status if it exited."""
    result = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return result if result is not None else 255
        if pid == 0:
            return result
        if pid == init_pid:
            result = _exit_status(status)


def _wait_readable(fds: list[int]) -> list[int]:
    import select

    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLHUP)
    return [fd for fd, _ in poller.poll()]


class _TerminalProxy:
    """Copies our stdin to the pty master and the master to our stdout; raw mode while running."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.saved = None
        self.stdin_open = True
        if os.isatty(0):
            import termios
            import tty

            self.saved = termios.tcgetattr(0)
            tty.setraw(0)
        self.resize()

    def resize(self) -> None:
        from pyrunc.linux import console

        for fd in (0, 1, 2):
            if os.isatty(fd):
                try:
                    rows, cols = console.get_winsize(fd)
                    console.set_winsize(self.master, rows, cols)
                except OSError:
                    pass
                return

    def pump(self, wake_fd: int) -> None:
        fds = [self.master, wake_fd] + ([0] if self.stdin_open else [])
        for fd in _wait_readable(fds):
            if fd == self.master:
                self._copy_out()
            elif fd == 0:
                try:
                    data = os.read(0, 65536)
                except OSError:
                    data = b""
                if not data:
                    self.stdin_open = False
                    continue
                os.write(self.master, data)

    def _copy_out(self) -> bool:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO once the last slave fd is closed
            return False
        if not data:
            return False
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
        return True

    def drain(self) -> None:
        import select

        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        while poller.poll(50) and self._copy_out():
            pass

    def restore(self) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, self.saved)
        os.close(self.master)
