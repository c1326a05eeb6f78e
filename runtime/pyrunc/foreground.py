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
TERMINATING = (1, 2, 3, 15)  # HUP, INT, QUIT, TERM


def run_container(opts: CreateOptions, detach: bool, keep: bool, subreaper: bool) -> int:
    from pyrunc.linux.syscalls import PR_SET_CHILD_SUBREAPER, SYS

    signals = None
    if not detach:
        if subreaper:
            SYS.prctl(PR_SET_CHILD_SUBREAPER, 1)
        opts.tty_to_parent = not opts.console_socket
        # From here on, signals meant for the container are queued and forwarded once its
        # init exists (runc does the same): a SIGTERM during create must not kill us and
        # leave the container behind.
        signals = SignalQueue()
    created = create(opts)
    container = Container.load(opts.root, opts.id)
    cancelled = [sig for sig in (signals.pending if signals else ()) if sig in TERMINATING]
    if cancelled:
        # Asked to stop before the container ran: a cancelled create (the process could not
        # have set up its own handlers yet, and pid 1 ignores unhandled signals).
        _destroy(container)
        if signals is not None:
            signals.close()
        return 128 + cancelled[0]
    try:
        container.start()
    except BaseException:
        _destroy(container)
        raise
    if detach:
        return 0
    try:
        status = supervise(created.pid, created.console_master, signals)
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


class SignalQueue:
    """Catches the forwarded signals (plus SIGCHLD/SIGWINCH) into a list and a wake-up pipe."""

    def __init__(self) -> None:
        import _signal

        self.pending: list[int] = []
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for sig in (*FORWARDED, SIGCHLD, SIGWINCH):
            try:
                _signal.signal(sig, self._catch)
            except (OSError, ValueError):
                pass
        _signal.set_wakeup_fd(self.wake_w)

    def _catch(self, signum: int, _frame: object) -> None:
        self.pending.append(signum)

    def close(self) -> None:
        import _signal

        _signal.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)


def supervise(pid: int, master: int | None, signals: SignalQueue | None = None) -> int:
    """Wait for ``pid`` (our child or reparented to us as subreaper), forwarding signals and
    proxying the terminal; returns its exit status (128+N when killed by signal N)."""
    signals = signals or SignalQueue()
    pending, wake_r = signals.pending, signals.wake_r
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
        signals.close()
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
