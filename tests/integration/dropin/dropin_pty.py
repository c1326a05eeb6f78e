"""Run a manager CLI (``ctr run -t``, ``podman run -it``) on a pseudo-terminal, as users do."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

# ctr and podman size the terminal after `start`: a shell snippet that waits for the size to be
# set (on 0x0 busybox stty fails or prints nothing), then prints "size ROWS COLS"
WAIT_FOR_SIZE = ('until s=$(stty size 2> /dev/null) && [ -n "$s" ] && [ "$s" != "0 0" ]; do '
                 'sleep 0.05; done; echo "size $s"')


class PtyResult:
    def __init__(self, returncode: int, output: str) -> None:
        self.returncode = returncode
        self.output = output

    def __repr__(self) -> str:
        return f"PtyResult(returncode={self.returncode}, output={self.output!r})"


def _make_controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_pty(argv: list[str], env: dict | None = None, reply_to: tuple[str, str] | None = None,
               timeout: float = 60.0, rows: int = 24, cols: int = 80) -> PtyResult:
    """Run ``argv`` with a new pty as its controlling terminal and stdio; collect everything.

    ``reply_to=(prompt, text)``: once ``prompt`` appears in the output, type ``text``.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    try:
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True, preexec_fn=_make_controlling_tty)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    replied = reply_to is None
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"{argv} on a pty: no exit after {timeout}s; "
                                   f"output so far {b''.join(chunks)!r}")
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave fd is closed
                    data = b""
                if not data:
                    break
                chunks.append(data)
                if not replied and reply_to[0].encode() in b"".join(chunks):
                    os.write(master, reply_to[1].encode())
                    replied = True
            elif proc.poll() is not None:
                # the CLI exited; drain what is left without blocking
                while select.select([master], [], [], 0.2)[0]:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    chunks.append(data)
                break
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return PtyResult(returncode, b"".join(chunks).decode(errors="replace"))
