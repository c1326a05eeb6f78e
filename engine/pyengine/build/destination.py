"""Writing COPY/ADD results into a mounted rootfs without ever leaving it.

The destination path is resolved inside the rootfs (build.scoped: symlinks followed, absolute
targets relative to the rootfs), then every write goes through directory descriptors opened
with O_NOFOLLOW from the rootfs root (archive.safefs.RootedDirs) and files are created with
O_EXCL|O_NOFOLLOW: a symlink (a planted one, or one swapped in meanwhile) is never written
through. Directories COPY creates are 0755 and owned by the COPY's owner (--chown, else 0:0).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyengine.archive.errors import ArchiveError
from pyengine.archive.safefs import RootedDirs
from pyengine.build import scoped
from pyengine.errors import InvalidArgument

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Owner:
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Meta:
    """What a written entry gets: permission bits and times (ns); the owner is the writer's."""

    mode: int
    atime_ns: int
    mtime_ns: int

    @classmethod
    def now(cls, mode: int) -> Meta:
        t = time.time_ns()
        return cls(mode, t, t)


def _b(rel: str) -> bytes:
    return os.fsencode(rel)


class DestWriter:
    """A rootfs opened for writing (a context manager); call finish() after the last write."""

    def __init__(self, rootfs: Path, owner: Owner, what: str = "COPY") -> None:
        self.owner = owner
        self.what = what
        try:
            self.root_fd = os.open(rootfs, _DIR)
        except OSError as exc:
            raise InvalidArgument(f"{what} failed: open rootfs {rootfs}: {exc.strerror}") from exc
        self.dirs = RootedDirs(self.root_fd, on_create=self._created)
        self._dir_times: list[tuple[str, int, int]] = []
        self.links: dict[tuple[int, int], str] = {}  # source inode -> the path written for it

    def close(self) -> None:
        self.dirs.close()
        os.close(self.root_fd)

    def __enter__(self) -> DestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _created(self, path: bytes, fd: int) -> None:
        os.fchown(fd, self.owner.uid, self.owner.gid)
        os.fchmod(fd, 0o755)

    def _fail(self, message: str) -> InvalidArgument:
        return InvalidArgument(f"{self.what} failed: {message}")

    # -- paths -------------------------------------------------------------------------------
    def resolve(self, dest: str) -> scoped.Resolved:
        """`dest` resolved inside the rootfs (FollowSymlinkInScope)."""
        try:
            return scoped.resolve(self.root_fd, dest)
        except OSError as exc:
            raise self._fail(f"resolve destination {dest}: {exc.strerror}") from None

    def ensure_dir(self, rel: str) -> int:
        """A descriptor of directory `rel` (a resolved path), created with its parents."""
        try:
            fd = self.dirs.dir_fd(_b(rel), create=True)
        except ArchiveError:
            raise self._fail(f"mkdir /{rel}: not a directory") from None
        assert fd is not None
        return fd

    def _make_room(self, rel: str, keep_dir: bool) -> tuple[int, str, bool]:
        """The parent descriptor and base name of `rel`, whatever was there removed (a
        directory kept when `keep_dir`); the flag says whether a directory was kept."""
        self.dirs.trim()  # bound the cached descriptors; no caller holds one across writes
        parent, _, base = rel.rpartition("/")
        parent_fd = self.ensure_dir(parent)
        try:
            st = os.stat(base, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return parent_fd, base, False
        if keep_dir and stat.S_ISDIR(st.st_mode):
            return parent_fd, base, True
        self.dirs.remove(parent_fd, _b(base), st)
        return self.ensure_dir(parent), base, False

    # -- writes ------------------------------------------------------------------------------
    def directory(self, rel: str, meta: Meta) -> None:
        parent_fd, base, kept = self._make_room(rel, keep_dir=True)
        if not kept:
            os.mkdir(base, 0o700, dir_fd=parent_fd)
        fd = self.ensure_dir(rel)
        os.fchown(fd, self.owner.uid, self.owner.gid)
        os.fchmod(fd, meta.mode)
        self._dir_times.append((rel, meta.atime_ns, meta.mtime_ns))

    def file(self, rel: str, meta: Meta, chunks: Iterable[bytes],
             xattrs: Sequence[tuple[str, bytes]] = ()) -> int:
        """A regular file with `chunks` as content and `xattrs`; returns its size."""
        parent_fd, base, _ = self._make_room(rel, keep_dir=False)
        fd = os.open(base, _CREATE, 0o600, dir_fd=parent_fd)
        size = 0
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                size += len(chunk)
            os.fchown(fd, self.owner.uid, self.owner.gid)
            os.fchmod(fd, meta.mode)  # after chown, which clears setuid bits
            for name, value in xattrs:  # after chown, which clears security.capability
                os.setxattr(fd, name, value)
            os.utime(fd, ns=(meta.atime_ns, meta.mtime_ns))
        finally:
            os.close(fd)
        return size

    def hardlink(self, rel: str, existing: str) -> None:
        """`rel` as a hard link to `existing`, a file this writer wrote."""
        parent_fd, base, _ = self._make_room(rel, keep_dir=False)
        target_parent, _, target_base = existing.rpartition("/")
        target_fd = self.ensure_dir(target_parent)
        os.link(target_base, base, src_dir_fd=target_fd, dst_dir_fd=parent_fd,
                follow_symlinks=False)

    def symlink(self, rel: str, target: str, meta: Meta) -> None:
        parent_fd, base, _ = self._make_room(rel, keep_dir=False)
        os.symlink(target, base, dir_fd=parent_fd)
        os.chown(base, self.owner.uid, self.owner.gid, dir_fd=parent_fd, follow_symlinks=False)
        os.utime(base, ns=(meta.atime_ns, meta.mtime_ns), dir_fd=parent_fd,
                 follow_symlinks=False)

    def fifo(self, rel: str, meta: Meta) -> None:
        parent_fd, base, _ = self._make_room(rel, keep_dir=False)
        os.mkfifo(base, 0o600, dir_fd=parent_fd)
        os.chown(base, self.owner.uid, self.owner.gid, dir_fd=parent_fd, follow_symlinks=False)
        # just made by us in a directory we hold open, and a fifo: following the name is safe
        os.chmod(base, meta.mode, dir_fd=parent_fd)
        os.utime(base, ns=(meta.atime_ns, meta.mtime_ns), dir_fd=parent_fd,
                 follow_symlinks=False)

    def finish(self) -> None:
        """Set the copied directories' times, deepest first (writes into them changed them)."""
        for rel, atime, mtime in sorted(self._dir_times, key=lambda t: -t[0].count("/")):
            self.dirs.trim()
            fd = self.dirs.dir_fd(_b(rel), create=False)
            if fd is not None:
                os.utime(fd, ns=(atime, mtime))
        self._dir_times.clear()
