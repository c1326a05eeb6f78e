"""apply_layer: stream one (compressed) OCI layer tar into a directory, safely.

Order per regular file: create (O_EXCL|O_NOFOLLOW), write data, chown, chmod (after chown, which
clears setuid bits), xattrs (after chown, which clears security.capability), times. Directory
times are set at the end, deepest first, once nothing more is written into them.

Small regular files and symlinks without xattrs are created by two writer threads (writers.py:
inode creation is the slow step here); this thread parses, creates everything else, waits for
the writers before anything could meet a file still in flight (its name, a parent, a hardlink
to it, a removal, a whiteout, the directory descriptors being closed).
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

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
from pyengine.archive.writers import (
    MAX_FILE_BYTES,
    WRITER_THREADS,
    CreateTimer,
    FileJob,
    FileWriters,
    write_file,
)

WHITEOUT_PREFIX = b".wh."
OPAQUE_MARKER = b".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def apply_layer(stream: Reader, media_type: str | None, dest: Path | int, *,
                whiteouts: WhiteoutMode = "overlay", limits: Limits | None = None,
                lowers: Sequence[Path] | None = None,
                writer_threads: int | None = None) -> ApplyResult:
    """Extract a layer blob into `dest` and return its diff_id (sha256 of the plain tar).

    whiteouts="overlay" writes OCI whiteouts as overlayfs ones (char 0:0 devices and the
    trusted.overlay.opaque xattr) for an upper directory; "remove" deletes the whited-out paths
    (a native snapshot, or a mounted overlay); "none" extracts `.wh.` entries as plain files
    (a tar that is not a layer: ADD of a local archive, a build context, as docker's Untar).
    `dest` is a path or a directory's descriptor.
    `lowers` (the parent layers' directories,
    nearest first) lets an upper directory be filled like a mounted view: implicitly created
    parents copy the metadata of the directory they shadow and hardlinks to lower files copy
    them up. Small files are created by `writer_threads` threads (writers.py); None: two, once
    the layer's first creates show creating is slow here; 0: never.
    On error `dest` holds a partial result the caller must discard; nothing is ever
    written outside it.
    """
    if whiteouts not in ("overlay", "remove", "none"):
        raise ValueError(f"whiteouts must be 'overlay', 'remove' or 'none', not {whiteouts!r}")
    limits = limits or Limits()
    lower_layers = LowerLayers(lowers) if lowers else None
    try:
        with ChunkSource(stream, media_type, limits.max_bytes) as source, \
                _open_dest(dest) as dirs:
            extractor = _Extractor(dirs, whiteouts, limits, lower_layers, writer_threads)
            try:
                _extract(extractor, tr.TarReader(source.get), dest)
            finally:
                extractor.close()  # no writer thread outlives the directory descriptors
            source.drain()
            return ApplyResult(diff_id=source.diff_id, size=source.size,
                               entries=extractor.entries,
                               skipped_devices=extractor.skipped_devices,
                               skipped_xattrs=extractor.skipped_xattrs)
    finally:
        if lower_layers is not None:
            lower_layers.close()


def _extract(extractor: _Extractor, reader: tr.TarReader, dest: Path | int) -> None:
    """Every entry, then the directory times; errors typed and named by their entry. A writer
    thread's failure on an earlier entry wins over a later entry's error, as with one thread."""
    try:
        for entry in reader.entries():
            try:
                extractor.add(entry, reader)
            except OSError as exc:
                raise _typed(exc, entry.name, dest) from exc
        try:
            extractor.finish()
        except OSError as exc:
            raise _typed(exc, b"(directory times)", dest) from exc
    except _WriteFailed as failed:
        raise _typed(failed.error, failed.name, dest) from failed.error
    except Exception:
        earlier = extractor.earlier_failure()
        if earlier is not None:
            raise _typed(earlier.error, earlier.name, dest) from earlier.error
        raise


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


class _PathTree:
    """Paths as nested dicts of their components, for a parent check linear in the path's
    length (a set of paths would slice every ancestor: quadratic in a deep PAX name)."""

    def __init__(self) -> None:
        self._root: dict[bytes, Any] = {}

    def __bool__(self) -> bool:
        return bool(self._root)

    def add(self, path: bytes) -> None:
        node = self._root
        *parents, last = path.split(b"/")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):  # (a file there was settled before this one)
                child = node[part] = {}
            node = child
        node[last] = True

    def meets(self, path: bytes) -> bool:
        """Whether `path` or one of its parents was added."""
        node: Any = self._root
        for part in path.split(b"/"):
            node = node.get(part)
            if node is None:
                return False
            if node is True:
                return True
        return False

    def clear(self) -> None:
        self._root = {}


class _WriteFailed(Exception):
    """A writer thread's OS error, raised by the extracting thread with the file's name."""

    def __init__(self, name: bytes, error: OSError) -> None:
        super().__init__(name, error)
        self.name = name
        self.error = error


class _Extractor:
    def __init__(self, dirs: RootedDirs, whiteouts: WhiteoutMode, limits: Limits,
                 lowers: LowerLayers | None = None, writer_threads: int | None = 0) -> None:
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
        self.writers = FileWriters(self.privileged, writer_threads) \
            if writer_threads is not None and writer_threads > 0 else None
        # the default: time the creates, start the writers once they are slow
        self.create_timer = CreateTimer() if writer_threads is None else None
        self.in_flight = _PathTree()  # files and symlinks handed to the writers

    # -- writer threads --------------------------------------------------------------------
    def settle(self) -> None:
        """Wait for the writers; redo here the files whose name was taken, raise the first
        other failure (with its file's name)."""
        if self.writers is None or not (self.writers.busy or self.writers.failed):
            return
        failures = self.writers.drain()
        self.in_flight.clear()
        for job, error in failures:
            if isinstance(error, FileExistsError):
                self._write_job_here(job)
            elif isinstance(error, OSError):
                raise _WriteFailed(job.path, error)
            else:
                raise error

    def _meets_in_flight(self, path: bytes) -> bool:
        """Whether `path` or one of its parents is a file the writers may still be creating."""
        return self.in_flight.meets(path)

    def earlier_failure(self) -> _WriteFailed | None:
        """After an entry failed: a writer's failure on an earlier entry, which one thread
        would have met first (a redo pending is no failure)."""
        if self.writers is None:
            return None
        for job, error in self.writers.drain():
            if isinstance(error, OSError) and not isinstance(error, FileExistsError):
                return _WriteFailed(job.path, error)
        return None

    def close(self) -> None:
        if self.writers is not None:
            self.writers.close()

    # -- dispatch --------------------------------------------------------------------------
    def add(self, entry: tr.TarEntry, reader: tr.TarReader) -> None:
        if self.writers is not None and self.writers.failed:
            self.settle()  # a failed job keeps its data until redone: keep that bounded
        if self.dirs.needs_trim():
            self.settle()  # the writers hold cached directory descriptors
            self.dirs.trim()
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise LayerTooLarge(
                f"apply layer: more than {self.limits.max_files} entries")
        path = normalize(entry.name)
        if not path:
            return  # the root directory itself: its metadata belongs to the snapshot
        if self.in_flight and (self._meets_in_flight(path) or (
                entry.type == tr.HARDLINK and self._meets_in_flight(
                    normalize(entry.linkname, "hardlink target")))):
            self.settle()
        parent, base = split(path)
        if base.startswith(WHITEOUT_PREFIX) and self.whiteouts != "none":
            self.settle()
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
        """Wait for the writers, then set directory times, deepest first."""
        self.settle()
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

    def _make_room(self, parent: bytes, base: bytes) -> int:
        """Remove whatever is at `base` in directory `parent` so a new entry can be created
        there; returns the parent's descriptor, fresh (removing a directory closes the cached
        ones). The writers finish first: they may be writing below `base`."""
        self.settle()
        self.dirs.remove(self._parent_fd(parent), base)
        return self._parent_fd(parent)

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
        if self.writers is not None and entry.sparse is None and not entry.xattrs \
                and entry.size <= MAX_FILE_BYTES:
            atime, mtime = self._times(entry)
            self.writers.submit(FileJob(
                self.entries, path, parent_fd, base, b"".join(reader.data()),
                entry.uid, entry.gid, entry.mode, atime, mtime))
            self.in_flight.add(path)
            self._mark_created(path)
            return
        try:
            if self.create_timer is not None:
                started = time.perf_counter_ns()
                fd = os.open(base, _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
                self._timed_create(time.perf_counter_ns() - started)
            else:
                fd = os.open(base, _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
        except FileExistsError:
            parent_fd = self._make_room(parent, base)
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

    def _timed_create(self, took_ns: int) -> None:
        assert self.create_timer is not None
        if self.create_timer.slow(took_ns):
            self.create_timer = None
            self.writers = FileWriters(self.privileged, WRITER_THREADS)

    def _write_job_here(self, job: FileJob) -> None:
        """A writer's file whose name was taken: replace what is there, as `_regular` does."""
        parent, base = split(job.path)
        try:
            self.dirs.remove(self._parent_fd(parent), base)
            write_file(replace(job, dir_fd=self._parent_fd(parent)), self.privileged)
        except OSError as exc:
            raise _WriteFailed(job.path, exc) from exc

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
                parent_fd = self._make_room(parent, base)
                os.mkdir(base, 0o700, dir_fd=parent_fd)
            elif self.in_flight:
                self.settle()  # files in it come first, its (maybe read-only) mode after
                parent_fd = self._parent_fd(parent)
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
        if self.writers is not None and not entry.xattrs:
            atime, mtime = self._times(entry)
            self.writers.submit(FileJob(
                self.entries, path, parent_fd, base, b"", entry.uid, entry.gid, 0o777,
                atime, mtime, symlink_to=entry.linkname))
            self.in_flight.add(path)
            self._mark_created(path)
            return
        try:
            os.symlink(entry.linkname, base, dir_fd=parent_fd)
        except FileExistsError:
            parent_fd = self._make_room(parent, base)
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
            try:
                os.link(target_base, base, src_dir_fd=target_fd, dst_dir_fd=parent_fd,
                        follow_symlinks=False)
            except FileExistsError:
                parent_fd = self._make_room(parent, base)
                # making room may have removed the target's directory: a None here would
                # make os.link resolve the target in the daemon's working directory
                target_fd = self.dirs.dir_fd(target_parent, create=False)
                if target_fd is None:
                    raise FileNotFoundError(errno.ENOENT, "target directory removed") \
                        from None
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
            parent_fd = self._make_room(parent, base)
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
                parent_fd = self._make_room(parent, victim)
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
