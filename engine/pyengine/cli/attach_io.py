"""pyctl's side of an attach (run, start -a, attach, exec -i/-t): one thread, one select()
over the daemon's socket, pyctl's stdin and a self-pipe for SIGWINCH.

The terminal goes raw while a tty session runs with stdin attached, and is restored on every
way out (the end, detach, an error, SIGTERM/SIGHUP). With a tty the window size is sent at the
start and again on each SIGWINCH. The daemon scans for the detach keys; when it answers
"detached", pyctl prints nothing more.
"""

from __future__ import annotations

import _signal as signal  # signal itself imports enum: not on the start-up path
import os
import select

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from pyengine.cli.wire.channel import BidiCall

NOT_A_TTY = "the input device is not a TTY"
DETACHED = -1  # session() answers this when the client detached


def window_size() -> tuple[int, int] | None:
    """(rows, columns) of pyctl's terminal (its stdout's, as docker; else its stdin's)."""
    for fd in (1, 0):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        if size.lines > 0 and size.columns > 0:
            return size.lines, size.columns
    return None


class RawTerminal:
    """The terminal on `fd` in raw mode while inside the `with` (if it is a terminal)."""

    def __init__(self, fd: int, enabled: bool) -> None:
        self.fd = fd
        self.saved: Any = None
        self.enabled = enabled and os.isatty(fd)

    def __enter__(self) -> RawTerminal:
        if self.enabled:
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            self.saved = None


class _Stop(BaseException):
    """SIGTERM or SIGHUP while a session runs (so that the terminal is restored)."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop(signum)


class _Signals:
    """SIGWINCH through a self-pipe (select wakes up), SIGTERM/SIGHUP as _Stop; with a
    proxy (--sig-proxy), every signal it forwards through the self-pipe instead."""

    def __init__(self, winch: bool, proxy: bool) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.old_fd = signal.set_wakeup_fd(self.write_fd)
        self.old: dict[int, Any] = {}
        handlers: list[tuple[int, Any]] = [(signal.SIGWINCH, _ignore)] if winch else []
        if proxy:
            from pyengine.cli.sig_proxy import proxied

            handlers += [(n, _ignore) for n in proxied() if n != signal.SIGWINCH or not winch]
        else:
            handlers += [(signal.SIGTERM, _stop), (signal.SIGHUP, _stop)]
        for signum, handler in handlers:
            try:
                self.old[signum] = signal.signal(signum, handler)
            except (OSError, ValueError):  # one the C library keeps for itself
                continue

    def drain(self) -> bytes:
        try:
            return os.read(self.read_fd, 512)
        except BlockingIOError:
            return b""

    def close(self) -> None:
        for signum, handler in self.old.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self.old_fd)
        os.close(self.read_fd)
        os.close(self.write_fd)


def _ignore(signum: int, frame: object) -> None:
    pass


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def open_session(call: BidiCall) -> None:
    """Wait until the daemon has subscribed (its response headers), raising its error."""
    call.initial_metadata()
    if call.ended():
        call.status()


def session(call: BidiCall, input_type: Callable[..., Any], *, stdin: bool, tty: bool,
            resize: bool, forward: Callable[[int], None] | None = None) -> int | None:
    """Run an attached session to its end: the exit code, DETACHED, or None when the daemon
    ended the call without either. `input_type(data=..)`/`(height=.., width=..)` makes the
    input messages (AttachInput, ExecInput). `forward`, when given, gets each signal pyctl
    receives meanwhile (--sig-proxy). Raises the call's RpcError."""
    signals = _Signals(winch=resize, proxy=forward is not None)
    stdin_fd = 0 if stdin else -1
    try:
        with RawTerminal(0, enabled=stdin and tty):
            if resize:
                _send_size(call, input_type)
            return _loop(call, input_type, signals, stdin_fd, tty, resize, forward)
    except _Stop:
        call.cancel()
        return 128 + signal.SIGTERM
    finally:
        signals.close()


def _send_size(call: BidiCall, input_type: Callable[..., Any]) -> None:
    size = window_size()
    if size is not None:
        call.send(input_type(height=size[0], width=size[1]))


def _outputs(call: BidiCall, tty: bool) -> Iterator[int | None]:
    for item in call.take():
        message: Any = item  # AttachOutput or ExecOutput: the same fields
        if message.exited:
            yield int(message.exit_code)
        elif message.detached:
            yield DETACHED
        elif message.data:
            _write(2 if message.stream == "stderr" and not tty else 1, message.data)


def _loop(call: BidiCall, input_type: Callable[..., Any], signals: _Signals, stdin_fd: int,
          tty: bool, resize: bool, forward: Callable[[int], None] | None) -> int | None:
    while True:
        for result in _outputs(call, tty):
            if result is not None:
                call.cancel()
                return result
        if call.ended():
            call.status()
            return None
        watched = [call.fileno(), signals.read_fd, *([stdin_fd] if stdin_fd >= 0 else [])]
        ready = [call.fileno()] if call.pending() else select.select(watched, [], [])[0]
        # drained whatever select() answered: a window change signalled before input arrived
        # is in the pipe already (its handler ran on the way out of select), and its size
        # must reach the daemon before that input does
        received = signals.drain()
        if signal.SIGWINCH in received and resize:
            _send_size(call, input_type)
        if forward is not None:
            for signum in received:
                if signum != signal.SIGWINCH or not resize:
                    forward(signum)
        if stdin_fd in ready:
            data = os.read(stdin_fd, 65536)
            if data:
                call.send(input_type(data=data))
            else:
                call.done_writing()
                stdin_fd = -1
        if call.fileno() in ready:
            call.read()
