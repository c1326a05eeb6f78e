"""Streaming decompression of layer blobs and rootfs tarballs (gzip, zstd, bzip2, xz)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
from typing import BinaryIO

from pyengine.errors import InvalidArgument
from pyengine.images import mediatypes

CHUNK = 1 << 20


def sniff(stream: BinaryIO) -> bytes:
    """The first bytes of a seekable stream, leaving its position unchanged."""
    pos = stream.tell()
    head = stream.read(8)
    stream.seek(pos)
    return head


def decompressed(stream: BinaryIO, head: bytes) -> BinaryIO:
    """A reader of the uncompressed bytes of `stream`, whose first bytes are `head`."""
    if head.startswith(mediatypes.GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if head.startswith(mediatypes.ZSTD_MAGIC):
        try:
            import zstandard
        except ImportError as err:
            raise InvalidArgument("zstd-compressed data needs the zstandard package") from err
        return zstandard.ZstdDecompressor().stream_reader(stream)  # type: ignore[return-value]
    if head.startswith(mediatypes.BZIP2_MAGIC):
        return bz2.BZ2File(stream, "rb")  # type: ignore[return-value]
    if head.startswith(mediatypes.XZ_MAGIC):
        return lzma.LZMAFile(stream, "rb")  # type: ignore[return-value]
    return stream


def copy_stream(src: BinaryIO, dst: BinaryIO) -> tuple[str, int]:
    """Copy all of `src` into `dst`; return (sha256 digest, bytes copied)."""
    hasher = hashlib.sha256()
    total = 0
    while chunk := src.read(CHUNK):
        hasher.update(chunk)
        dst.write(chunk)
        total += len(chunk)
    return "sha256:" + hasher.hexdigest(), total


def digest_stream(src: BinaryIO) -> tuple[str, int]:
    """sha256 digest and length of everything `src` yields."""
    hasher = hashlib.sha256()
    total = 0
    while chunk := src.read(CHUNK):
        hasher.update(chunk)
        total += len(chunk)
    return "sha256:" + hasher.hexdigest(), total
