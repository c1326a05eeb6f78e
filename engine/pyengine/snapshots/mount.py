"""Mount descriptions (containerd's Mount: type, source, options) and helpers that apply them.

Overlay mounts with many layers can exceed the one page the kernel accepts for mount data; then
the lowerdir paths are made relative to their common directory and the mount(2) call runs in a
forked child that changed into that directory (the approach docker's overlay2 driver takes), so
the daemon's own working directory never changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyengine.snapshots.errors import MountError

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 0x2

# Data longer than this (one page minus slack) is passed with relative lowerdir paths.
MAX_MOUNT_DATA = 4096 - 512

_FLAGS = {
    "ro": (MS_RDONLY, True), "rw": (MS_RDONLY, False),
    "nosuid": (MS_NOSUID, True), "suid": (MS_NOSUID, False),
    "nodev": (MS_NODEV, True), "dev": (MS_NODEV, False),
    "noexec": (MS_NOEXEC, True), "exec": (MS_NOEXEC, False),
    "noatime": (MS_NOATIME, True), "nodiratime": (MS_NODIRATIME, True),
    "bind": (MS_BIND, True), "rbind": (MS_BIND | MS_REC, True),
}

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


@dataclass(frozen=True)
class Mount:
    """One mount: `mount -t <type> <source> <target> -o <options>`."""

    type: str
    source: str
    options: list[str] = field(default_factory=list)

    def flags_and_data(self) -> tuple[int, str]:
        flags = 0
        data = []
        for option in self.options:
            if option in _FLAGS:
                bit, set_it = _FLAGS[option]
                flags = flags | bit if set_it else flags & ~bit
            else:
                data.append(option)
        if self.type == "bind":
            flags |= MS_BIND
        return flags, ",".join(data)


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    rc = _libc.mount(source.encode(), target.encode(), fstype.encode(), flags,
                     data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def _mount_in_dir(directory: str, source: str, target: str, fstype: str, flags: int,
                  data: str) -> None:
    """mount(2) from a child process whose working directory is `directory`."""
    args = (source.encode(), target.encode(), fstype.encode(), flags, data.encode())
    directory_b = directory.encode()
    pid = os.fork()
    if pid == 0:  # child: no allocation-heavy work, just chdir + mount, then _exit
        code = 0
        try:
            os.chdir(directory_b)
            if _libc.mount(*args) != 0:
                code = ctypes.get_errno() or errno.EIO
        except BaseException:
            code = errno.EIO
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise OSError(code, os.strerror(code) if code > 0 else "mount helper died", target)


def _relative_overlay_data(data: str) -> tuple[str, str] | None:
    """(directory, data with lowerdirs relative to it), or None when nothing is gained."""
    options = data.split(",")
    lowers_at = next((i for i, o in enumerate(options) if o.startswith("lowerdir=")), None)
    if lowers_at is None:
        return None
    lowers = options[lowers_at][len("lowerdir="):].split(":")
    common = os.path.commonpath(lowers)
    if common == "/" or len(lowers) < 2:
        return None
    if common in lowers:
        common = os.path.dirname(common)
    options[lowers_at] = "lowerdir=" + ":".join(os.path.relpath(p, common) for p in lowers)
    return common, ",".join(options)


def mount_one(mount: Mount, target: Path) -> None:
    """Mount one Mount at `target` (read-only binds are remounted read-only)."""
    flags, data = mount.flags_and_data()
    fstype = "" if flags & MS_BIND else mount.type
    try:
        if len(data) > MAX_MOUNT_DATA and mount.type == "overlay":
            relative = _relative_overlay_data(data)
            if relative is None:
                raise OSError(errno.E2BIG, "mount options longer than a page", str(target))
            _mount_in_dir(relative[0], mount.source, str(target), fstype, flags, relative[1])
        else:
            _mount(mount.source, str(target), fstype, flags & ~MS_RDONLY if flags & MS_BIND
                   else flags, data)
            if flags & MS_BIND and flags & MS_RDONLY:
                _mount("", str(target), "", MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & (
                    MS_NOSUID | MS_NODEV | MS_NOEXEC)), "")
    except OSError as exc:
        raise MountError(f"mount {mount.type} {mount.source} on {target}: {exc.strerror} "
                         f"(errno {exc.errno})") from exc


def bind(source: str, target: str) -> None:
    """Bind `source` (recursively) on `target` (a path, or /proc/self/fd/N of a descriptor).
    The new mount is a peer of a shared source: make_private it before mounting under it."""
    try:
        _mount(source, target, "", MS_BIND | MS_REC, "")
    except OSError as exc:
        raise MountError(f"bind {source} on {target}: {exc.strerror} "
                         f"(errno {exc.errno})") from exc


def make_private(target: str, *, read_only: bool = False) -> None:
    """The mount at `target` and those below it private (nothing mounted there propagates
    anywhere), and the top one read-only when asked. A descriptor's /proc/self/fd/N names
    what was under a mount made on it since: give one opened after the mount."""
    try:
        _mount("", target, "", MS_PRIVATE | MS_REC, "")
        if read_only:
            _mount("", target, "", MS_REMOUNT | MS_BIND | MS_RDONLY, "")
    except OSError as exc:
        raise MountError(f"make {target} private: {exc.strerror} (errno {exc.errno})") from exc


def mount_all(mounts: Sequence[Mount], target: Path) -> None:
    """Mount each of `mounts` on `target`, in order; on failure undo the ones done."""
    done = 0
    try:
        for mount in mounts:
            mount_one(mount, target)
            done += 1
    except BaseException:
        for _ in range(done):
            _umount(target, MNT_DETACH)
        raise


def _umount(target: Path, flags: int) -> int:
    if _libc.umount2(str(target).encode(), flags) == 0:
        return 0
    return ctypes.get_errno()


def unmount_all(target: Path) -> None:
    """Unmount everything stacked on `target` (EINVAL: nothing is mounted there any more)."""
    for _ in range(1000):
        err = _umount(target, 0)
        if err == 0:
            continue
        if err == errno.EBUSY:
            err = _umount(target, MNT_DETACH)
            if err == 0:
                continue
        if err in (errno.EINVAL, errno.ENOENT):
            return
        raise MountError(f"unmount {target}: {os.strerror(err)} (errno {err})")
    raise MountError(f"unmount {target}: still mounted after 1000 unmounts")
