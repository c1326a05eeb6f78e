"""A container's files read and resolved from the host without ever leaving its rootfs.

Paths are resolved as if the rootfs were `/` (chroot semantics: an absolute symlink restarts at
the rootfs, `..` stops there): with openat2(RESOLVE_IN_ROOT) when the kernel has it, else by a
walk of O_PATH descriptors, one O_NOFOLLOW openat per component, symlinks read with readlinkat.
Trees are written to tar from descriptors too (each directory opened with O_NOFOLLOW relative
to its parent, each file with O_NOFOLLOW relative to its directory), so a container swapping a
directory for a symlink while it runs cannot redirect a read to the host.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import tarfile
from dataclasses import dataclass
from io import BufferedIOBase

from pyengine.archive.writer import entry_info, pax_stream, set_special_type
from pyengine.errors import FailedPrecondition, NotFound

MAX_SYMLINKS = 40
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
_NR_OPENAT2 = 437  # the same on x86_64 and aarch64 (asm-generic)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_openat2_works: bool | None = None  # None: not tried yet


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def _openat2(root_fd: int, path: str, flags: int) -> int | None:
    """openat2 in root, or None when the kernel lacks it (then the walk is used)."""
    global _openat2_works
    if _openat2_works is False:
        return None
    how = _OpenHow(flags | os.O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    for _ in range(3):  # EAGAIN: a rename raced with a ".." step; the kernel asks to retry
        fd = _libc.syscall(_NR_OPENAT2, root_fd, os.fsencode(path or "."), ctypes.byref(how),
                           ctypes.sizeof(how))
        if fd >= 0:
            _openat2_works = True
            return int(fd)
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            break
    else:
        return None  # still racing: the walk resolves it instead
    if err in (errno.ENOSYS, errno.EPERM) and _openat2_works is None:
        _openat2_works = False  # no openat2, or a seccomp filter refuses it
        return None
    raise OSError(err, os.strerror(err), path)


def _walk(root_fd: int, path: str, follow_last: bool) -> int:
    """The walk openat2 would do: an O_PATH descriptor of `path` resolved inside root."""
    pending = _split(path)
    stack = [os.open(".", _PATH, dir_fd=root_fd)]
    links = 0
    try:
        while pending:
            part = pending.pop(0)
            if part == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            fd = os.open(part, _PATH, dir_fd=stack[-1])
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode) and (pending or follow_last):
                target = os.readlink(part, dir_fd=stack[-1])
                os.close(fd)
                links += 1
                if links > MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                if target.startswith("/"):
                    for extra in stack[1:]:
                        os.close(extra)
                    del stack[1:]
                pending = _split(target) + pending
                continue
            stack.append(fd)
            if pending and not stat.S_ISDIR(st.st_mode):
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
        return os.dup(stack[-1])
    finally:
        for fd in stack:
            os.close(fd)


def open_in_root(root_fd: int, path: str, *, follow_last: bool = True) -> int:
    """An O_PATH descriptor of container path `path` (OSError when it cannot be resolved)."""
    flags = os.O_PATH | (0 if follow_last else os.O_NOFOLLOW)
    fd = _openat2(root_fd, path, flags)
    return fd if fd is not None else _walk(root_fd, path, follow_last)


def make_in_root(root_fd: int, path: str, *, directory: bool) -> int:
    """An O_PATH descriptor of `path` resolved inside root as open_in_root does, made first
    when missing as a runtime makes a mount point: parents as directories, the last one a
    directory or an empty file (mode 0755, dockerd's). OSError when it cannot be made (a
    dangling symlink on the way: FileExistsError)."""
    parts = _split(path)
    for depth in range(1, len(parts) + 1):
        try:
            os.close(open_in_root(root_fd, "/" + "/".join(parts[:depth])))
            continue
        except FileNotFoundError:
            pass
        parent = open_in_root(root_fd, "/" + "/".join(parts[:depth - 1]))
        try:
            if directory or depth < len(parts):
                os.mkdir(parts[depth - 1], 0o755, dir_fd=parent)
            else:
                os.close(os.open(parts[depth - 1], os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                                 os.O_NOFOLLOW | os.O_CLOEXEC, 0o755, dir_fd=parent))
        finally:
            os.close(parent)
    return open_in_root(root_fd, path)


@dataclass(frozen=True)
class PathStat:
    """What `docker cp` learns of a container path before copying (its stat header)."""

    name: str
    mode: int
    size: int
    mtime: int
    link_target: str

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


@dataclass(frozen=True)
class Found:
    """A container path resolved: the entry `name` in directory `parent_fd` (an O_PATH
    descriptor the caller closes; name "." when the path is that directory itself), its
    lstat, and the name a copy of it takes (the path's last component)."""

    parent_fd: int
    name: str
    st: os.stat_result
    display: str

    def close(self) -> None:
        os.close(self.parent_fd)

    def stat(self) -> PathStat:
        link = ""
        if stat.S_ISLNK(self.st.st_mode):
            link = os.readlink(self.name, dir_fd=self.parent_fd)
        return PathStat(name=self.display, mode=self.st.st_mode, size=self.st.st_size,
                        mtime=int(self.st.st_mtime), link_target=link)


def not_found(container: str, path: str) -> NotFound:
    return NotFound(f"Could not find the file {path} in container {container}")


def find(root_fd: int, path: str, container: str, *, follow_link: bool = False) -> Found:
    """Resolve `path` for cp: parents are followed inside root; the last component too with
    `follow_link` (cp -L) or when the path ends with "/" or "/." (then it must be a
    directory), as docker does."""
    parts = _split(path)
    display = parts[-1] if parts else "."
    clean = "/" + "/".join(parts)
    try:
        if path.endswith("/") or path.endswith("/.") or not parts or parts[-1] == "..":
            return _directory(root_fd, clean, display, container, path)
        for _ in range(MAX_SYMLINKS):
            head, _, base = clean.rpartition("/")
            parent = open_in_root(root_fd, head or "/")
            try:
                st = os.stat(base, dir_fd=parent, follow_symlinks=False)
                if not (follow_link and stat.S_ISLNK(st.st_mode)):
                    return Found(parent, base, st, display)
                target = os.readlink(base, dir_fd=parent)
            except BaseException:
                os.close(parent)
                raise
            os.close(parent)
            clean = target if target.startswith("/") else f"{head}/{target}"
            if _split(clean)[-1:] in ([], [".."]):
                return _directory(root_fd, clean, display, container, path)
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
    except FileNotFoundError:
        raise not_found(container, path) from None
    except NotADirectoryError:
        raise NotFound(f"{not_found(container, path)}: not a directory") from None
    except OSError as err:
        raise FailedPrecondition(f"resolve {path} in container {container}: "
                                 f"{err.strerror}") from None


def _directory(root_fd: int, clean: str, display: str, container: str, path: str) -> Found:
    fd = open_in_root(root_fd, clean)
    st = os.fstat(fd)
    if not stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise NotFound(f"{not_found(container, path)}: not a directory")
    return Found(fd, ".", st, display)


# -- tar from descriptors -------------------------------------------------------------------


class _Exact:
    """A file read for exactly `size` bytes: cut when it grew, zero-padded when it shrank (a
    running container may write it while it is copied)."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._left = size

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = os.read(self._fd, n)
        if not data:
            data = bytes(n)
        self._left -= len(data)
        return data


class FdTarWriter:
    """A PAX tar of trees read through descriptors; repeated inodes become hardlinks."""

    def __init__(self, out: BufferedIOBase) -> None:
        self.tar = pax_stream(out)
        self._inodes: dict[tuple[int, int], str] = {}

    def close(self) -> None:
        self.tar.close()

    def add_tree(self, parent_fd: int, name: str, arcname: str) -> None:
        """`name` in `parent_fd` as `arcname`, and everything below it when a directory."""
        pending: list[tuple[int, str, str]] = [(parent_fd, name, arcname)]
        owned: list[int] = []  # directory descriptors open on the way down
        try:
            while pending:
                dir_fd, entry, arc = pending.pop()
                if not entry:  # the marker that directory dir_fd is done
                    owned.remove(dir_fd)
                    os.close(dir_fd)
                    continue
                child = self._add(dir_fd, entry, arc)
                if child is not None:
                    owned.append(child)
                    pending.append((child, "", ""))
                    for sub in sorted(os.listdir(child), reverse=True):
                        pending.append((child, sub, f"{arc}/{sub}"))
        finally:
            for fd in owned:
                os.close(fd)

    def _add(self, dir_fd: int, name: str, arcname: str) -> int | None:
        """Write one entry; a directory's descriptor is returned to walk it."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None  # gone while the walk ran
        info = entry_info(arcname or ".", st, f"/proc/self/fd/{dir_fd}/{name}")
        key = (st.st_dev, st.st_ino)
        if stat.S_ISDIR(st.st_mode):
            try:
                child = os.open(name, _DIR, dir_fd=dir_fd)
            except OSError:
                return None
            info.type = tarfile.DIRTYPE
            try:
                self.tar.addfile(info)
            except BaseException:  # the reader went away (cp interrupted): not walked
                os.close(child)
                raise
            return child
        if stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1 and key in self._inodes:
                info.type, info.linkname = tarfile.LNKTYPE, self._inodes[key]
                self.tar.addfile(info)
                return None
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                             dir_fd=dir_fd)
            except OSError:
                return None  # swapped for something else (a symlink) meanwhile: skipped
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                info.type, info.size = tarfile.REGTYPE, st.st_size
                if st.st_nlink > 1:
                    self._inodes[key] = info.name
                self.tar.addfile(info, _Exact(fd, st.st_size))
            finally:
                os.close(fd)
            return None
        if set_special_type(info, st, lambda: os.readlink(name, dir_fd=dir_fd)):
            self.tar.addfile(info)  # sockets are not archived
        return None


def export(root_fd: int, out: BufferedIOBase) -> None:
    """The whole tree of `root_fd` as a tar (docker export: names relative, no "./")."""
    fd = os.open(".", _DIR, dir_fd=root_fd)
    try:
        names = sorted(os.listdir(fd))
    finally:
        os.close(fd)
    writer = FdTarWriter(out)
    for name in names:
        writer.add_tree(root_fd, name, name)
    writer.close()
