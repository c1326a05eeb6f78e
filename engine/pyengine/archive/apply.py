"""apply_layer: stream one (compressed) OCI layer tar into a directory, safely.

Order per regular file: create (O_EXCL|O_NOFOLLOW), write data, chown, chmod (after chown, which
clears setuid bits), xattrs (after chown, which clears security.capability), times. Directory
times are set at the end, deepest first, once nothing more is written into them.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from pyengine.archive import tarreader as tr
from pyengine.archive.decompress import ChunkSource
from pyengine.archive.errors import (
    ArchiveError,
    CorruptLayer,
    DiskFull,
    LayerTooLarge,
    UnsafeLayer,
)
from pyengine.archive.lowers import LowerLayers
from pyengine.archive.safefs import RootedDirs, normalize, proc_path, split
from pyengine.archive.types import ApplyResult, Limits, Reader, WhiteoutMode

WHITEOUT_PREFIX = b".wh."
OPAQUE_MARKER = b".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def apply_layer(stream: Reader, media_type: str | None, dest: Path | int, *,
                whiteouts: WhiteoutMode = "overlay", limits: Limits | None = None,
                lowers: Sequence[Path] | None = None) -> ApplyResult:
    """Extract a layer blob into `dest` and return its diff_id (sha256 of the plain tar).

    whiteouts="overlay" writes OCI whiteouts as overlayfs ones (char 0:0 devices and the
    trusted.overlay.opaque xattr) for an upper directory; "remove" deletes the whited-out paths
    (a native snapshot, or a mounted overlay); "none" extracts `.wh.` entries as plain files
    (a tar that is not a layer: ADD of a local archive, a build context, as docker's Untar).
    `dest` is a path or a directory's descriptor.
    `lowers` (the parent layers' directories,
    nearest first) lets an upper directory be filled like a mounted view: implicitly created
    parents copy the metadata of the directory they shadow and hardlinks to lower files copy
    them up. On error `dest` holds a partial result the caller must discard; nothing is ever
    written outside it.
    """
    if whiteouts not in ("overlay", "remove", "none"):
        raise ValueError(f"whiteouts must be 'overlay', 'remove' or 'none', not {whiteouts!r}")
    limits = limits or Limits()
    lower_layers = LowerLayers(lowers) if lowers else None
    try:
        with ChunkSource(stream, media_type, limits.max_bytes) as source, \
                _open_dest(dest) as dirs:
            extractor = _Extractor(dirs, whiteouts, limits, lower_layers)
            reader = tr.TarReader(source.get)
            for entry in reader.entries():
                try:
                    extractor.add(entry, reader)
                except OSError as exc:
                    raise _typed(exc, entry.name, dest) from exc
            try:
                extractor.finish()
            except OSError as exc:
                raise _typed(exc, b"(directory times)", dest) from exc
            source.drain()
            return ApplyResult(diff_id=source.diff_id, size=source.size,
                               entries=extractor.entries,
                               skipped_devices=extractor.skipped_devices,
                               skipped_xattrs=extractor.skipped_xattrs)
    finally:
        if lower_layers is not None:
            lower_layers.close()


def _open_dest(dest: Path | int) -> RootedDirs:
    try:
        return RootedDirs(dest)
    except OSError as exc:
        raise ArchiveError(f"apply layer: open destination {dest}: {exc.strerror} "
                           f"(errno {exc.errno})") from exc


def _typed(exc: OSError, name: bytes, dest: Path | int) -> ArchiveError:
    """An OS error while writing an entry, as a typed error naming the entry and the cause."""
    message = (f"apply layer into {dest}: {_show(name)}: {exc.strerror or exc} "
               f"(errno {exc.errno})")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(message)
    return ArchiveError(message)


class _Extractor:
    def __init__(self, dirs: RootedDirs, whiteouts: WhiteoutMode, limits: Limits,
                 lowers: LowerLayers | None = None) -> None:
        self.dirs = dirs
        self.lowers = lowers
        if lowers is not None:
            dirs.on_create = self._implicit_dir
        self.whiteouts = whiteouts
        self.limits = limits
        self.privileged = os.geteuid() == 0
        self.created: set[bytes] = set()
        self.dir_times: list[tuple[bytes, int, int]] = []
        self.entries = 0
        self.declared_bytes = 0
        self.skipped_devices = 0
        self.skipped_xattrs = 0

    # -- dispatch --------------------------------------------------------------------------
    def add(self, entry: tr.TarEntry, reader: tr.TarReader) -> None:
        self.dirs.trim()
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise LayerTooLarge(
                f"apply layer: more than {self.limits.max_files} entries")
        path = normalize(entry.name)
        if not path:
            return  # the root directory itself: its metadata belongs to the snapshot
        parent, base = split(path)
        if base.startswith(WHITEOUT_PREFIX) and self.whiteouts != "none":
            self._whiteout(path, parent, base)
            return
        kind = entry.type
        if kind in (tr.REGULAR, tr.CONTIGUOUS):
            self._count_bytes(entry)
            self._regular(entry, path, parent, base, reader)
        elif kind == tr.DIRECTORY:
            self._directory(entry, path, parent, base)
        elif kind == tr.SYMLINK:
            self._symlink(entry, path, parent, base)
        elif kind == tr.HARDLINK:
            self._hardlink(entry, path, parent, base)
        elif kind in (tr.CHARDEV, tr.BLOCKDEV, tr.FIFO):
            self._special(entry, path, parent, base)
        # Other types (volume labels, multi-volume parts...) carry nothing for a rootfs.

    def _mark_created(self, path: bytes) -> None:
        """Remember that this layer made `path` (and so its parents): whiteouts and opaque
        markers of the same layer leave them alone."""
        created = self.created
        while path and path not in created:
            created.add(path)
            path = split(path)[0]

    def _count_bytes(self, entry: tr.TarEntry) -> None:
        self.declared_bytes += entry.apparent_size
        if self.declared_bytes > self.limits.max_bytes:
            raise LayerTooLarge(
                f"apply layer: {_show(entry.name)} brings the layer's file sizes over the limit "
                f"of {self.limits.max_bytes} bytes ({entry.apparent_size} bytes declared)")

    def finish(self) -> None:
        """Set directory times, deepest first."""
        self.dir_times.sort(key=lambda item: item[0].count(b"/"), reverse=True)
        for path, atime, mtime in self.dir_times:
            try:
                fd = self.dirs.dir_fd(path, create=False)
            except UnsafeLayer:
                continue  # replaced by a non-directory later in the layer
            if fd is not None:
                os.utime(fd, ns=(atime, mtime))

    # -- creation helpers ------------------------------------------------------------------
    def _parent_fd(self, parent: bytes) -> int:
        fd = self.dirs.dir_fd(parent)
        assert fd is not None
        return fd

    def _make_room(self, parent_fd: int, base: bytes) -> None:
        """Remove whatever is at `base` so a new entry can be created there."""
        self.dirs.remove(parent_fd, base)

    def _owner(self, entry: tr.TarEntry, fd: int | None, parent_fd: int, base: bytes) -> None:
        if not self.privileged:
            return
        if fd is not None:
            os.fchown(fd, entry.uid, entry.gid)
        else:
            os.chown(base, entry.uid, entry.gid, dir_fd=parent_fd, follow_symlinks=False)

    def _xattrs(self, entry: tr.TarEntry, target: int | bytes, follow: bool = True) -> None:
        for name, value in entry.xattrs:
            if name.startswith("trusted.overlay."):
                self.skipped_xattrs += 1  # a layer must not steer overlayfs (redirects...)
                continue
            try:
                os.setxattr(target, name, value, follow_symlinks=follow)
            except OSError as exc:
                if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP) \
                        and not self.privileged:
                    self.skipped_xattrs += 1
                    continue
                raise ArchiveError(
                    f"apply layer: set xattr {name} on {_show(entry.name)}: {exc}") from exc

    def _times(self, entry: tr.TarEntry) -> tuple[int, int]:
        atime = entry.atime_ns if entry.atime_ns is not None else entry.mtime_ns
        return atime, entry.mtime_ns

    # -- entry kinds -----------------------------------------------------------------------
    def _regular(self, entry: tr.TarEntry, path: bytes, parent: bytes, base: bytes,
                 reader: tr.TarReader) -> None:
        parent_fd = self._parent_fd(parent)
        try:
            fd = os.open(base, _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
        except FileExistsError:
            self._make_room(parent_fd, base)
            parent_fd = self._parent_fd(parent)
            fd = os.open(base, _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
        try:
            if entry.sparse is not None:
                self._write_sparse(fd, entry, reader)
            else:
                for view in reader.data():
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
            self._owner(entry, fd, parent_fd, base)
            os.fchmod(fd, entry.mode)
            if entry.xattrs:
                self._xattrs(entry, fd)
            os.utime(fd, ns=self._times(entry))
        finally:
            os.close(fd)
        self._mark_created(path)

    def _write_sparse(self, fd: int, entry: tr.TarEntry, reader: tr.TarReader) -> None:
        assert entry.sparse is not None
        data = reader.data()
        pending = memoryview(b"")
        for offset, length in entry.sparse:
            if offset < 0 or length < 0 or offset + length > entry.apparent_size:
                raise CorruptLayer(f"apply layer: bad sparse map in {_show(entry.name)}")
            while length:
                if not pending:
                    try:
                        pending = next(data)
                    except StopIteration:
                        raise CorruptLayer(
                            f"apply layer: sparse data of {_show(entry.name)} is short") from None
                take = min(length, len(pending))
                written = os.pwrite(fd, pending[:take], offset)
                pending = pending[written:]
                offset += written
                length -= written
        os.ftruncate(fd, entry.apparent_size)

    def _directory(self, entry: tr.TarEntry, path: bytes, parent: bytes, base: bytes) -> None:
        parent_fd = self._parent_fd(parent)
        try:
            os.mkdir(base, 0o700, dir_fd=parent_fd)
        except FileExistsError:
            st = os.stat(base, dir_fd=parent_fd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                self._make_room(parent_fd, base)
                parent_fd = self._parent_fd(parent)
                os.mkdir(base, 0o700, dir_fd=parent_fd)
        fd = self.dirs.dir_fd(path)
        assert fd is not None
        self._owner(entry, fd, parent_fd, base)
        os.fchmod(fd, entry.mode)
        if entry.xattrs:
            self._xattrs(entry, fd)
        self.dir_times.append((path, *self._times(entry)))
        self._mark_created(path)

    def _symlink(self, entry: tr.TarEntry, path: bytes, parent: bytes, base: bytes) -> None:
        parent_fd = self._parent_fd(parent)
        try:
            os.symlink(entry.linkname, base, dir_fd=parent_fd)
        except FileExistsError:
            self._make_room(parent_fd, base)
            parent_fd = self._parent_fd(parent)
            os.symlink(entry.linkname, base, dir_fd=parent_fd)
        self._owner(entry, None, parent_fd, base)
        if entry.xattrs:
            self._xattrs(entry, proc_path(parent_fd, base), follow=False)
        os.utime(base, ns=self._times(entry), dir_fd=parent_fd, follow_symlinks=False)
        self._mark_created(path)

    def _hardlink(self, entry: tr.TarEntry, path: bytes, parent: bytes, base: bytes) -> None:
        target = normalize(entry.linkname, "hardlink target")
        if not target:
            raise UnsafeLayer(f"apply layer: hardlink {_show(entry.name)} points to the root")
        if target == path:
            return
        target_parent, target_base = split(target)
        if self.lowers is not None and self.dirs.lstat(target) is None:
            self._copy_up(target)
        target_fd = self.dirs.dir_fd(target_parent, create=False)
        if target_fd is None:
            raise CorruptLayer(f"apply layer: hardlink {_show(entry.name)}: target "
                               f"{_show(entry.linkname)} does not exist")
        parent_fd = self._parent_fd(parent)
        try:
            os.link(target_base, base, src_dir_fd=target_fd, dst_dir_fd=parent_fd,
                    follow_symlinks=False)
        except FileExistsError:
            self._make_room(parent_fd, base)
            parent_fd = self._parent_fd(parent)
            target_fd = self.dirs.dir_fd(target_parent, create=False)
            os.link(target_base, base, src_dir_fd=target_fd, dst_dir_fd=parent_fd,
                    follow_symlinks=False)
        except FileNotFoundError as exc:
            raise CorruptLayer(f"apply layer: hardlink {_show(entry.name)}: target "
                               f"{_show(entry.linkname)} does not exist") from exc
        except PermissionError as exc:  # e.g. a link to a directory
            raise UnsafeLayer(f"apply layer: hardlink {_show(entry.name)} -> "
                              f"{_show(entry.linkname)}: {exc}") from exc
        self._mark_created(path)

    def _special(self, entry: tr.TarEntry, path: bytes, parent: bytes, base: bytes) -> None:
        if entry.type == tr.FIFO:
            kind, device = stat.S_IFIFO, 0
        else:
            if not self.privileged:
                self.skipped_devices += 1  # unprivileged: like rootless engines, skip
                return
            kind = stat.S_IFCHR if entry.type == tr.CHARDEV else stat.S_IFBLK
            device = os.makedev(entry.devmajor, entry.devminor)
        parent_fd = self._parent_fd(parent)
        try:
            os.mknod(base, kind | 0o600, device, dir_fd=parent_fd)
        except FileExistsError:
            self._make_room(parent_fd, base)
            parent_fd = self._parent_fd(parent)
            os.mknod(base, kind | 0o600, device, dir_fd=parent_fd)
        self._owner(entry, None, parent_fd, base)
        # Just created by us and not a symlink, so following the name is safe here.
        os.chmod(base, entry.mode, dir_fd=parent_fd)
        if entry.xattrs:
            self._xattrs(entry, proc_path(parent_fd, base), follow=False)
        os.utime(base, ns=self._times(entry), dir_fd=parent_fd, follow_symlinks=False)
        self._mark_created(path)

    # -- lower layers (overlay upper directories) ---------------------------------------------
    def _implicit_dir(self, path: bytes, fd: int) -> None:
        """A parent created implicitly takes the metadata of the lower directory it shadows."""
        assert self.lowers is not None
        found = self.lowers.find(path)
        if found is None or not stat.S_ISDIR(found[1].st_mode):
            return
        root, st = found
        if self.privileged:
            os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        for name, value in self.lowers.xattrs(root, path):
            os.setxattr(fd, name, value)
        self.dir_times.append((path, st.st_atime_ns, st.st_mtime_ns))

    def _copy_up(self, path: bytes) -> None:
        """Copy a regular file of a lower layer into the upper directory (for a hardlink)."""
        assert self.lowers is not None
        found = self.lowers.find(path)
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return
        root, st = found
        parent, base = split(path)
        parent_fd = self._parent_fd(parent)
        src = self.lowers.open_file(root, path)
        try:
            fd = os.open(base, _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
            try:
                while chunk := os.read(src, 1 << 20):
                    os.write(fd, chunk)
                if self.privileged:
                    os.fchown(fd, st.st_uid, st.st_gid)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                for name, value in self.lowers.xattrs(root, path):
                    os.setxattr(fd, name, value)
                os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(fd)
        finally:
            os.close(src)

    # -- whiteouts -------------------------------------------------------------------------
    def _whiteout(self, path: bytes, parent: bytes, base: bytes) -> None:
        if base == OPAQUE_MARKER:
            self._opaque(parent)
            return
        if base.startswith(b".wh..wh."):
            return  # other aufs metadata (.wh..wh.plnk...): nothing to apply
        victim = base[len(WHITEOUT_PREFIX):]
        if victim in (b"", b".", b".."):
            raise UnsafeLayer(f"apply layer: whiteout {_show(path)} names no sibling")
        victim_path = parent + b"/" + victim if parent else victim
        if self.whiteouts == "overlay":
            if not self.privileged:
                raise ArchiveError("apply layer: overlay whiteouts need root (mknod 0:0)")
            parent_fd = self._parent_fd(parent)
            try:
                os.mknod(victim, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent_fd)
            except FileExistsError:
                self._make_room(parent_fd, victim)
                parent_fd = self._parent_fd(parent)
                os.mknod(victim, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent_fd)
            self._mark_created(victim_path)
            return
        if victim_path in self.created:
            return  # whiteouts hide lower layers, not this layer's own entries
        existing_fd = self.dirs.dir_fd(parent, create=False)
        if existing_fd is not None:  # no directory, nothing to hide
            self.dirs.remove(existing_fd, victim)

    def _opaque(self, parent: bytes) -> None:
        parent_fd = self._parent_fd(parent)
        if self.whiteouts == "overlay":
            if not self.privileged:
                raise ArchiveError("apply layer: overlay opaque directories need root")
            os.setxattr(parent_fd, OVERLAY_OPAQUE_XATTR, b"y")
            return
        prefix = parent + b"/" if parent else b""
        for name in map(os.fsencode, os.listdir(parent_fd)):
            if prefix + name not in self.created:
                self.dirs.remove(self._parent_fd(parent), name)


def _show(name: bytes) -> str:
    return repr(name.decode("utf-8", "backslashreplace"))
