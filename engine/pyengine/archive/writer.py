"""Writing layer tars: a whole tree (export_tar) or the changes of a snapshot (diff).

Tars are PAX, entries sorted by name, hardlinks kept as links, xattrs as SCHILY.xattr records
(overlayfs' own trusted.overlay.* attributes excluded), numeric owners only.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from pyengine.archive.apply import OPAQUE_MARKER, OVERLAY_OPAQUE_XATTR, WHITEOUT_PREFIX
from pyengine.archive.errors import ArchiveError
from pyengine.archive.lowers import LowerLayers

if TYPE_CHECKING:
    from typing_extensions import Buffer

Compression = Literal["none", "gzip"]


class _HashingWriter(io.BufferedIOBase):
    """Counts and hashes the plain tar bytes, optionally gzip-compressing them into `out`."""

    def __init__(self, out: BinaryIO, compression: Compression) -> None:
        super().__init__()
        self._out = out
        self._hash = hashlib.sha256()
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if compression == "gzip" else None
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer, /) -> int:
        self._hash.update(data)
        length = memoryview(data).nbytes
        self.size += length
        self._out.write(self._gzip.compress(data) if self._gzip else data)
        return length

    def finish(self) -> str:
        if self._gzip:
            self._out.write(self._gzip.flush())
        return "sha256:" + self._hash.hexdigest()


def xattr_records(path: Path | str) -> dict[str, str]:
    """The PAX records of a path's extended attributes (overlayfs' own left out); `path` is
    not followed when it is a symlink."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    records = {}
    for name in sorted(names):
        if name.startswith("trusted.overlay."):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue  # removed meanwhile
        records["SCHILY.xattr." + name] = value.decode("utf-8", "surrogateescape")
    return records


def entry_info(name: str, st: os.stat_result, xattrs_of: Path | str) -> tarfile.TarInfo:
    """A tar header for `st` with numeric owners and xattrs; the type is left to the caller
    for regular files and hardlinks (see `set_special_type`)."""
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    info.uname = info.gname = ""
    info.pax_headers = xattr_records(xattrs_of)
    return info


def set_special_type(info: tarfile.TarInfo, st: os.stat_result,
                     readlink: Callable[[], str]) -> bool:
    """Type a directory, symlink, device or fifo header; False for sockets (never archived)."""
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, readlink()
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(st.st_mode):
        info.type = tarfile.FIFOTYPE
    else:
        return False
    return True


def pax_stream(out: io.BufferedIOBase) -> tarfile.TarFile:
    """A streaming PAX tar writer on `out` (names kept byte for byte); the caller closes it."""
    return tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8",
                        errors="surrogateescape")


class _TarBuilder:
    """Adds filesystem objects to a PAX tar, turning repeated inodes into hardlinks."""

    def __init__(self, out: _HashingWriter) -> None:
        self.tar = pax_stream(out)
        self._inodes: dict[tuple[int, int], str] = {}
        self.names: set[str] = set()

    def add(self, path: Path, name: str, st: os.stat_result) -> None:
        self.names.add(name)
        info = entry_info(name, st, path)
        key = (st.st_dev, st.st_ino)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and key in self._inodes:
            info.type = tarfile.LNKTYPE
            info.linkname = self._inodes[key]
            self.tar.addfile(info)
            return
        if stat.S_ISREG(st.st_mode):
            info.type, info.size = tarfile.REGTYPE, st.st_size
            if st.st_nlink > 1:
                self._inodes[key] = name
            with open(path, "rb", buffering=0) as fh:
                self.tar.addfile(info, fh)
            return
        if set_special_type(info, st, lambda: os.readlink(path)):
            self.tar.addfile(info)  # sockets do not belong in a layer

    def add_marker(self, name: str) -> None:
        """An empty regular file: an OCI whiteout or opaque marker."""
        info = tarfile.TarInfo(name)
        info.mode, info.mtime, info.uname, info.gname = 0o644, 0, "", ""
        self.tar.addfile(info)

    def close(self) -> None:
        self.tar.close()


def _walk(root: Path) -> Iterator[tuple[Path, str, os.stat_result]]:
    """(path, relative name, lstat) of everything under root: sorted, depth first, parents
    before children; iterative, so any depth works."""
    stack: list[Iterator[str]] = [iter(sorted(os.listdir(root)))]
    prefixes = [""]
    while stack:
        name = next(stack[-1], None)
        if name is None:
            stack.pop()
            prefixes.pop()
            continue
        rel = prefixes[-1] + name
        path = root / rel
        st = os.lstat(path)
        yield path, rel, st
        if stat.S_ISDIR(st.st_mode):
            stack.append(iter(sorted(os.listdir(path))))
            prefixes.append(rel + "/")


def export_tar(root: Path, out: BinaryIO, *, compression: Compression = "none") -> str:
    """Write the whole tree under `root` as a tar; returns the sha256 of the plain tar."""
    writer = _HashingWriter(out, compression)
    builder = _TarBuilder(writer)
    for path, name, st in _walk(root):
        builder.add(path, name, st)
    builder.close()
    return writer.finish()


def _is_overlay_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _same(a: os.stat_result, b: os.stat_result, path_a: Path, path_b: bytes) -> bool:
    """Whether upper entry a (at path_a) equals lower entry b (reached safely as path_b)."""
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode:
        return False
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
        return False
    if xattr_records(path_a) != xattr_records(os.fsdecode(path_b)):
        return False
    if stat.S_ISDIR(a.st_mode):
        return True  # a directory's mtime changes with its contents; those are diffed anyway
    if a.st_mtime_ns != b.st_mtime_ns or a.st_size != b.st_size or a.st_rdev != b.st_rdev:
        return False
    if stat.S_ISLNK(a.st_mode):
        return os.fsencode(os.readlink(path_a)) == os.readlink(path_b)
    return True


Skip = Callable[[str, os.stat_result], bool]


def diff(lower_dirs: Sequence[Path] | None, upper: Path, out: BinaryIO, *,
         compression: Compression = "none", skip: Skip | None = None) -> str:
    """Write the OCI layer tar that turns the lower view into `upper`; returns its diff_id.

    lower_dirs None: `upper` is an overlayfs upper directory; its contents are the changes,
    char 0:0 devices become `.wh.` whiteouts and opaque directories get `.wh..wh..opq`.
    lower_dirs given: `upper` is a complete tree (a native snapshot or a mounted view) compared
    with the merged lower directories (topmost first): changed and new paths are written
    (with their parent directories), removed ones become whiteouts. `skip(name, lstat)` leaves
    out paths of `upper` (names relative, no leading "/"), e.g. a runtime's mount points.
    """
    writer = _HashingWriter(out, compression)
    builder = _TarBuilder(writer)
    try:
        if lower_dirs is None:
            _diff_upper(upper, builder, skip)
        else:
            lowers = LowerLayers(lower_dirs)
            try:
                _diff_compare(lowers, upper, builder, skip=skip)
            except RecursionError as exc:
                raise ArchiveError(f"diff {upper}: directory tree too deep to compare") from exc
            finally:
                lowers.close()
    except OSError as exc:
        raise ArchiveError(f"diff {upper}: {exc}") from exc
    builder.close()
    return writer.finish()


_UNDIFFABLE_XATTRS = ("trusted.overlay.redirect", "trusted.overlay.metacopy")


def _check_plain_upper(path: Path) -> None:
    """Refuse uppers that rely on redirect_dir or metacopy: their files do not hold the data."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return
    for name in _UNDIFFABLE_XATTRS:
        if name in names:
            raise ArchiveError(f"diff {path}: has {name} (overlay redirect_dir/metacopy in "
                               f"use); its changes cannot be read from the upper directory")


def _diff_upper(upper: Path, builder: _TarBuilder, skip: Skip | None) -> None:
    for path, name, st in _walk(upper):
        _check_plain_upper(path)
        if skip is not None and skip(name, st):
            continue
        if _is_overlay_whiteout(st):
            parent, _, base = name.rpartition("/")
            marker = WHITEOUT_PREFIX.decode() + base
            builder.add_marker(f"{parent}/{marker}" if parent else marker)
            continue
        builder.add(path, name, st)
        if stat.S_ISDIR(st.st_mode) and _is_opaque(path):
            builder.add_marker(f"{name}/{OPAQUE_MARKER.decode()}")


def _diff_compare(lowers: LowerLayers, upper: Path, builder: _TarBuilder, rel: str = "",
                  pending: list[tuple[Path, str, os.stat_result]] | None = None,
                  skip: Skip | None = None) -> None:
    """Recursively emit changes under directory `rel`; `pending` are unchanged ancestors
    written only if something below them changes."""
    pending = pending if pending is not None else []
    directory = upper / rel if rel else upper
    names = sorted(os.listdir(directory))
    present = set(names)
    removed = sorted(name for name in map(os.fsdecode, lowers.names(os.fsencode(rel)))
                     if name not in present)
    if removed:
        _flush(builder, pending)
        for name in removed:
            whiteout = WHITEOUT_PREFIX.decode() + name
            builder.add_marker(f"{rel}/{whiteout}" if rel else whiteout)
    for name in names:
        path = directory / name
        relname = f"{rel}/{name}" if rel else name
        st = os.lstat(path)
        found = lowers.find(os.fsencode(relname))
        if found is None and skip is not None and skip(relname, st):
            continue
        changed = found is None or not _same(
            st, found[1], path, LowerLayers.proc_path(found[0], os.fsencode(relname)))
        if stat.S_ISDIR(st.st_mode):
            if changed:
                _flush(builder, pending)
                builder.add(path, relname, st)
                _diff_compare(lowers, upper, builder, relname, [], skip)
            else:
                _diff_compare(lowers, upper, builder, relname, [*pending, (path, relname, st)],
                              skip)
            continue
        if changed:
            _flush(builder, pending)
            builder.add(path, relname, st)


def _flush(builder: _TarBuilder, pending: list[tuple[Path, str, os.stat_result]]) -> None:
    for path, name, st in pending:
        if name not in builder.names:
            builder.add(path, name, st)
    pending.clear()
