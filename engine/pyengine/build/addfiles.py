"""ADD: COPY plus local archives extracted and http(s) URLs downloaded, as docker's classic
builder does.

- A local source that is a regular file holding a tar (plain, gzip, bzip2, xz or zstd, told by
  the magic bytes and a valid first tar header, never by the name) is extracted into the
  destination directory with the layer extractor (archive.apply_layer): entries keep the
  archive's owners and modes (--chown/--chmod do not apply, as docker), `.wh.` entries are
  plain files (docker's Untar has no whiteouts), and nothing is written outside the
  destination (`..` and absolute names are refused, symlinks are never written through).
- A URL is downloaded (build.fetch) into `downloads` and copied as a file of mode 0600 named
  after the URL; it is never extracted. `--checksum` applies to URLs only.
- Anything else is copied as COPY copies it. Git URLs are not supported.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO

from pyengine.archive import apply_layer
from pyengine.archive.decompress import ChunkSource
from pyengine.archive.errors import ArchiveError
from pyengine.archive.types import Reader
from pyengine.build import fetch as fetching
from pyengine.build import sources as src
from pyengine.build.copyfiles import Copier, CopySpec, check_count, parse_chmod, parse_owner
from pyengine.build.destination import DestWriter
from pyengine.errors import InvalidArgument

WHAT = "ADD"
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
_PROBE_LIMIT = 64 << 20


def _decompressed(f: BinaryIO) -> Reader:
    """`f` with bzip2/xz undone; gzip and zstd are left to the layer reader, which knows them."""
    head = f.read(6)
    f.seek(0)
    if head.startswith(BZIP2_MAGIC):
        return bz2.BZ2File(f)
    if head.startswith(XZ_MAGIC):
        return lzma.LZMAFile(f)
    return f


def _open(entry: src.Entry) -> BinaryIO:
    fd = os.open(entry.name, _READ, dir_fd=entry.dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidArgument(f"{WHAT} failed: {entry.name!r} is not a regular file")
    return os.fdopen(fd, "rb")


def is_archive(entry: src.Entry) -> bool:
    """Whether a file holds a (compressed) tar: its first 512 uncompressed bytes must be a
    valid tar header (docker: tar.NewReader(DecompressStream(f)).Next() succeeds)."""
    with _open(entry) as f:
        try:
            with ChunkSource(_decompressed(f), None, _PROBE_LIMIT) as chunks:
                head = b""
                while len(head) < tarfile.BLOCKSIZE and (chunk := chunks.get()):
                    head += chunk
        except (ArchiveError, OSError, EOFError, lzma.LZMAError):
            return False
    try:
        tarfile.TarInfo.frombuf(head[:tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def extract(copier: Copier, entry: src.Entry) -> None:
    """Extract the archive `entry` into the copy's destination directory."""
    writer = copier.writer
    dest_fd = writer.ensure_dir(copier.resolved.path)
    with _open(entry) as f:
        apply_layer(_decompressed(f), None, dest_fd, whiteouts="none")
    writer.dirs.forget()  # the extraction may have replaced directories the cache knew


def add_into(tree: src.SourceTree, spec: CopySpec, rootfs: Path, checksum: str | None,
             downloads: Path) -> str:
    """ADD what `spec` names into `rootfs`; returns the created_by detail."""
    urls = [w for w in spec.sources if fetching.is_url(w)]
    local = tuple(w for w in spec.sources if not fetching.is_url(w))
    if checksum is not None and local:
        raise InvalidArgument("checksum can't be specified for non-HTTP(S) sources")
    owner = parse_owner(spec.chown, rootfs)
    chmod = parse_chmod(spec.chmod)
    fetched = [fetching.download(url, downloads / str(i), checksum)
               for i, url in enumerate(urls)]
    with src.TreeReader(tree) as reader, DestWriter(rootfs, owner, WHAT) as writer:
        selected = reader.select(local, WHAT) if local else []
        check_count(len(selected) + len(fetched) + len(spec.heredocs), spec.dest, WHAT)
        copier = Copier(writer, spec.dest, chmod)
        try:
            details = [_add_local(copier, reader, sel) for sel in selected]
            for url, got in zip(urls, fetched, strict=True):
                if copier.into_dir() and not got.named:
                    raise InvalidArgument(f"{WHAT} failed: cannot determine filename for "
                                          f"source {url}")
                with src.TreeReader(src.SourceTree(got.path.parent)) as dl:
                    details.append(copier.copy(dl, dl.one(got.path.name, WHAT)))
            details += [copier.heredoc(name, text) for name, text in spec.heredocs]
            writer.finish()
        except ArchiveError as exc:
            raise InvalidArgument(f"{WHAT} failed: {exc}") from exc
    return src.multi_detail(details)


def _add_local(copier: Copier, reader: src.TreeReader, sel: src.Selected) -> str:
    if stat.S_ISREG(sel.st.st_mode):
        entry = next(iter(reader.entries(sel)))
        if is_archive(entry):
            extract(copier, entry)
            return src.hash_source(reader, sel)
    return copier.copy(reader, sel)
