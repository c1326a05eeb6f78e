"""Read-only lookups in the lower layers of an overlay upper directory being extracted.

Used when a layer is applied into an upper directory without mounting: an implicitly created
parent directory takes the metadata of the directory it shadows, and a hardlink to a file of
a lower layer copies that file up first (what overlayfs does on a mounted view). Lookups walk
each lower with O_NOFOLLOW (symlinks are never followed) and honour whiteouts and opaque
directories.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from pyengine.archive.errors import UnsafeLayer
from pyengine.archive.safefs import RootedDirs, split

OPAQUE_XATTR = "trusted.overlay.opaque"


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


class LowerLayers:
    """The merged, read-only view of lower directories (topmost first)."""

    def __init__(self, lowers: Sequence[Path]) -> None:
        self._roots = [RootedDirs(Path(p)) for p in lowers]

    def close(self) -> None:
        for root in self._roots:
            root.close()

    def find(self, path: bytes) -> tuple[RootedDirs, os.stat_result] | None:
        """(the lower holding `path`, its lstat) or None when absent or hidden."""
        for root in self._roots:
            try:
                st = root.lstat(path)
            except UnsafeLayer:
                return None  # a parent is a whiteout or a symlink: nothing visible below
            if st is not None:
                return None if _is_whiteout(st) else (root, st)
            if self._opaque_ancestor(root, path):
                return None
        return None

    @staticmethod
    def _opaque_ancestor(root: RootedDirs, path: bytes) -> bool:
        parent = split(path)[0]
        while True:
            try:
                fd = root.dir_fd(parent, create=False)
            except UnsafeLayer:
                return True
            if fd is not None:
                try:
                    if os.getxattr(fd, OPAQUE_XATTR) == b"y":
                        return True
                except OSError as exc:
                    if exc.errno not in (errno.ENODATA, errno.ENOTSUP):
                        raise
            if not parent:
                return False
            parent = split(parent)[0]

    def names(self, path: bytes) -> set[bytes]:
        """Names visible in directory `path` of the merged view."""
        visible: set[bytes] = set()
        hidden: set[bytes] = set()
        for root in self._roots:
            try:
                fd = root.dir_fd(path, create=False)
            except UnsafeLayer:
                break  # a whiteout (or a symlink) hides this directory from here down
            if fd is None:
                if self._opaque_ancestor(root, path + b"/x" if path else b"x"):
                    break
                continue
            for name in map(os.fsencode, os.listdir(fd)):
                if name in visible or name in hidden:
                    continue
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                (hidden if _is_whiteout(st) else visible).add(name)
            try:
                if os.getxattr(fd, OPAQUE_XATTR) == b"y":
                    break
            except OSError as exc:
                if exc.errno not in (errno.ENODATA, errno.ENOTSUP):
                    raise
        return visible

    @staticmethod
    def proc_path(root: RootedDirs, path: bytes) -> bytes:
        """A /proc/self/fd path naming `path` in `root` without following symlinks on the way."""
        parent, base = split(path)
        fd = root.dir_fd(parent, create=False)
        assert fd is not None
        return b"/proc/self/fd/%d/%s" % (fd, base)

    @staticmethod
    def xattrs(root: RootedDirs, path: bytes) -> list[tuple[str, bytes]]:
        parent, base = split(path)
        fd = root.dir_fd(parent, create=False)
        if fd is None:
            return []
        target = b"/proc/self/fd/%d/%s" % (fd, base)
        try:
            names = os.listxattr(target, follow_symlinks=False)
        except OSError:
            return []
        return [(n, os.getxattr(target, n, follow_symlinks=False)) for n in names
                if not n.startswith("trusted.overlay.")]

    @staticmethod
    def open_file(root: RootedDirs, path: bytes) -> int:
        parent, base = split(path)
        fd = root.dir_fd(parent, create=False)
        assert fd is not None
        return os.open(base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
