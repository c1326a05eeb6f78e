"""Filesystem access confined to one root directory.

Every directory is opened relative to its parent's file descriptor with O_NOFOLLOW, starting
from the root's descriptor, so neither `..` nor a symlink (planted by a layer or already on
disk) can lead outside the root. Names are bytes paths relative to the root, already
normalised by `normalize` (no empty, `.` or `..` components).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from pyengine.archive.errors import ArchiveError, UnsafeLayer

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_CACHED_DIRS = 256  # trimmed back to the root between entries beyond this
MAX_OPEN_DIRS = 512  # hard bound while walking one (very deep) path


def normalize(name: bytes, what: str = "entry") -> bytes:
    """A tar name as a clean relative path; b"" for the root itself.

    Absolute names and `..` components are refused: an OCI layer has no reason to use them.
    The one exception is "/" itself (umoci writes the root directory's entry that way), which
    names the root and cannot lead anywhere else.
    """
    if b"\0" in name:
        raise UnsafeLayer(f"apply layer: {what} {_show(name)} contains a NUL byte")
    parts = [p for p in name.split(b"/") if p and p != b"."]
    if name.startswith(b"/") and parts:
        raise UnsafeLayer(f"apply layer: {what} {_show(name)} is an absolute path")
    if b".." in parts:
        raise UnsafeLayer(f"apply layer: {what} {_show(name)} contains '..'")
    return b"/".join(parts)


def _show(name: bytes) -> str:
    return repr(name.decode("utf-8", "backslashreplace"))


def split(path: bytes) -> tuple[bytes, bytes]:
    """(parent, basename) of a normalised path."""
    parent, _, base = path.rpartition(b"/")
    return parent, base


class RootedDirs:
    """Directory descriptors under one root, opened without following symlinks, cached."""

    def __init__(self, root: Path | int,
                 on_create: Callable[[bytes, int], None] | None = None) -> None:
        """`root`: a path or a descriptor of the directory (an O_PATH one will do; it is
        reopened, the caller keeps its own). on_create(path, fd) is called for each directory
        created implicitly."""
        self.root = root
        self.root_fd = (os.open(".", _DIR_FLAGS, dir_fd=root) if isinstance(root, int)
                        else os.open(root, _DIR_FLAGS))
        self._cache: dict[bytes, int] = {b"": self.root_fd}
        self.on_create = on_create

    def close(self) -> None:
        self.forget()
        os.close(self.root_fd)

    def __enter__(self) -> RootedDirs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def forget(self) -> None:
        """Close every cached descriptor but the root's (after something was removed)."""
        for path, fd in self._cache.items():
            if path:
                os.close(fd)
        self._cache = {b"": self.root_fd}

    def needs_trim(self) -> bool:
        return len(self._cache) > MAX_CACHED_DIRS

    def trim(self) -> None:
        """Bound the cache; call between entries, when no caller holds a descriptor."""
        if len(self._cache) > MAX_CACHED_DIRS:
            self.forget()

    def dir_fd(self, path: bytes, create: bool = True, mode: int = 0o755) -> int | None:
        """A descriptor of directory `path`; missing directories are created when `create`.

        Returns None when the directory is missing and `create` is false. Raises UnsafeLayer
        when a component is a symlink or not a directory. The descriptor stays valid until the
        next forget()/trim()/remove(); descriptors are never closed here, so a caller may hold
        several at once.
        """
        fd = self._cache.get(path)
        if fd is not None:
            return fd
        # Walk down from the nearest cached ancestor, one openat(O_NOFOLLOW) per component.
        known = path
        missing: list[bytes] = []
        while known not in self._cache:
            known, base = split(known)
            missing.append(base)
        fd = self._cache[known]
        current = known
        uncached: int | None = None  # an intermediate descriptor kept out of a full cache
        try:
            for i, base in enumerate(reversed(missing)):
                current = current + b"/" + base if current else base
                child = self._open_child(fd, base, current, create, mode)
                if uncached is not None:
                    os.close(uncached)
                    uncached = None
                if child is None:
                    return None
                if i == len(missing) - 1 or len(self._cache) < MAX_OPEN_DIRS:
                    self._cache[current] = child
                else:
                    uncached = child
                fd = child
        finally:
            if uncached is not None:
                os.close(uncached)
        return fd

    def _open_child(self, parent_fd: int, base: bytes, path: bytes, create: bool,
                    mode: int) -> int | None:
        try:
            return os.open(base, _DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                return None
        except OSError as exc:
            self._refuse(exc, path)
        created = True
        try:
            os.mkdir(base, mode, dir_fd=parent_fd)
        except FileExistsError:
            created = False
        fd = self._open_existing(base, parent_fd, path)
        if created and self.on_create is not None:
            self.on_create(path, fd)
        return fd

    def _open_existing(self, base: bytes, parent_fd: int, path: bytes) -> int:
        try:
            return os.open(base, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            self._refuse(exc, path)

    @staticmethod
    def _refuse(exc: OSError, path: bytes) -> NoReturn:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeLayer(
                f"apply layer: {_show(path)} is a symlink or not a directory; refusing to "
                f"write through it") from exc
        raise ArchiveError(f"apply layer: open directory {_show(path)}: {exc}") from exc

    def lstat(self, path: bytes) -> os.stat_result | None:
        """lstat of `path`, None when it (or a parent) does not exist."""
        parent, base = split(path)
        parent_fd = self.dir_fd(parent, create=False)
        if parent_fd is None:
            return None
        try:
            return os.stat(base, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def remove(self, parent_fd: int, base: bytes, st: os.stat_result | None = None) -> None:
        """Remove `base` in `parent_fd`, recursively for directories, never following links."""
        if st is None:
            try:
                st = os.stat(base, dir_fd=parent_fd, follow_symlinks=False)
            except FileNotFoundError:
                return
        if stat.S_ISDIR(st.st_mode):
            remove_tree(parent_fd, base)
            self.forget()
        else:
            os.unlink(base, dir_fd=parent_fd)


def remove_tree(parent_fd: int, name: bytes) -> None:
    """Remove directory `name` (in parent_fd) with everything below it, never following links.

    shutil.rmtree recurses once per level; a tree deeper than the recursion limit (a layer
    can make one) is finished by flattening: each subdirectory is renamed up into parent_fd
    under a random name and emptied in turn, so depth and open descriptors stay constant.
    """
    try:
        shutil.rmtree(name, dir_fd=parent_fd)
        return
    except RecursionError:
        pass
    pending = [name]
    while pending:
        current = pending.pop()
        fd = os.open(current, _DIR_FLAGS, dir_fd=parent_fd)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        flat = b".rm-" + os.urandom(8).hex().encode()
                        os.rename(entry.name, flat, src_dir_fd=fd, dst_dir_fd=parent_fd)
                        pending.append(flat)
                    else:
                        os.unlink(entry.name, dir_fd=fd)
        finally:
            os.close(fd)
        os.rmdir(current, dir_fd=parent_fd)


def proc_path(parent_fd: int, base: bytes) -> bytes:
    """A path naming `base` inside an open directory, for calls without a dir_fd argument."""
    return b"/proc/self/fd/%d/%s" % (parent_fd, base)
