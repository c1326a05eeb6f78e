"""The few Linux calls the shim needs beyond the os module: prctl(PR_SET_CHILD_SUBREAPER),
mount(2) and umount2(2), through ctypes on libc."""

from __future__ import annotations

import ctypes
import os

PR_SET_CHILD_SUBREAPER = 36
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)

# mount(8) option words that are flags, not filesystem data: name -> (set, clear).
_FLAGS: dict[str, tuple[int, int]] = {
    "ro": (1, 0), "rw": (0, 1), "nosuid": (2, 0), "suid": (0, 2), "nodev": (4, 0),
    "dev": (0, 4), "noexec": (8, 0), "exec": (0, 8), "sync": (16, 0), "remount": (32, 0),
    "noatime": (1024, 0), "nodiratime": (2048, 0), "bind": (4096, 0),
    "rbind": (4096 | 16384, 0), "relatime": (1 << 21, 0), "strictatime": (1 << 24, 0),
}


class LinuxError(OSError):
    """A system call failed: the message names the call and its object."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise LinuxError(err, f"{what}: {os.strerror(err)}")


def set_child_subreaper() -> None:
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def mount(source: str, target: str, fstype: str, options: list[str]) -> None:
    """mount(2) with mount(8)-style options: flag words become flags, the rest data."""
    flags = 0
    data: list[str] = []
    for opt in options:
        known = _FLAGS.get(opt)
        if known is None:
            data.append(opt)
        else:
            flags = (flags | known[0]) & ~known[1]
    if fstype in ("bind", "rbind") and not flags & 4096:
        flags |= 4096
    joined = ",".join(data).encode() if data else None
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode(), flags, joined),
           f"mount {fstype} {source} on {target}")


def unmount(target: str) -> None:
    """Detach `target` (lazy, as containerd's shim does on delete); not mounted is fine."""
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone
            raise LinuxError(err, f"unmount {target}: {os.strerror(err)}")


IN_MODIFY = 0x2
IN_IGNORED = 0x8000  # the watch is gone (its file was removed)
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


def inotify_init() -> int:
    """A non-blocking, close-on-exec inotify descriptor."""
    fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        raise LinuxError(err, f"inotify_init1: {os.strerror(err)}")
    return int(fd)


def inotify_watch(fd: int, path: str, mask: int) -> int:
    wd = _libc.inotify_add_watch(fd, path.encode(), mask)
    if wd < 0:
        err = ctypes.get_errno()
        raise LinuxError(err, f"inotify_add_watch {path}: {os.strerror(err)}")
    return int(wd)


def inotify_masks(data: bytes) -> list[int]:
    """The event masks in what a read of an inotify descriptor returned (struct
    inotify_event: wd, mask, cookie, len, then len bytes of name)."""
    masks = []
    offset = 0
    while offset + 16 <= len(data):
        _, mask, _, length = (int.from_bytes(data[offset + i:offset + i + 4], "little")
                              for i in (0, 4, 8, 12))
        masks.append(mask)
        offset += 16 + length
    return masks
