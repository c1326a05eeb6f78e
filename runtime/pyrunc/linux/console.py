"""Terminals: a pty made inside the container's devpts, its master handed to the caller.

Protocol (runc's, used by containerd's shim and conmon): connect to the --console-socket unix
stream socket, send ONE message carrying exactly one SCM_RIGHTS fd (the master) and a short
non-empty payload, close. No reply. The caller accepts only after create has exited.
"""

from __future__ import annotations

import fcntl
import os
import struct

TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430
TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414
TIOCGWINSZ = 0x5413

SOL_SOCKET = 1
SCM_RIGHTS = 1


def open_pty() -> tuple[int, str]:
    """Open /dev/ptmx (the container's, after pivot_root) → (master fd, slave path)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"))[0]
    return master, f"/dev/pts/{number}"


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def get_winsize(fd: int) -> tuple[int, int]:
    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, TIOCGWINSZ, b"\0" * 8))
    return rows, cols


def make_controlling_stdio(slave_path: str, uid: int, gid: int) -> None:
    """Open the slave, make it our controlling tty (we are a session leader) and stdio."""
    fd = os.open(slave_path, os.O_RDWR)
    try:
        os.fchown(fd, uid, gid)
    except OSError:
        pass
    fcntl.ioctl(fd, TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def connect(path: str) -> int:
    """Connect to a console socket; returns the connected fd (done by the parent before fork,
    since the path lives in the host's mount namespace)."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"connect to console socket {path}: {err.strerror}") from None
    return sock.detach()


def send_fd(sock_fd: int, fd: int, payload: bytes = b"/dev/ptmx") -> None:
    import _socket

    sock = _socket.socket(fileno=sock_fd)
    try:
        sock.sendmsg([payload], [(SOL_SOCKET, SCM_RIGHTS, struct.pack("i", fd))])
    finally:
        sock.detach()


def recv_fd(sock_fd: int) -> tuple[bytes, int | None]:
    import _socket

    sock = _socket.socket(fileno=sock_fd)
    try:
        data, ancdata, _, _ = sock.recvmsg(4096, _socket.CMSG_SPACE(4))
    finally:
        sock.detach()
    for level, kind, raw in ancdata:
        if level == SOL_SOCKET and kind == SCM_RIGHTS and len(raw) >= 4:
            return data, struct.unpack("i", raw[:4])[0]
    return data, None
