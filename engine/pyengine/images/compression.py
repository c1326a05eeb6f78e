"""Streaming decompression of layer blobs and rootfs tarballs (gzip, zstd, bzip2, xz)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
from typing import BinaryIO

from pyengine.archive.types import Reader
from pyengine.errors import InvalidArgument
from pyengine.images import mediatypes

CHUNK = 1 << 20


def decompressed(stream: BinaryIO, head: bytes) -> Reader:
    """A reader of the uncompressed bytes of `stream`, whose first bytes are `head`."""
    if head.startswith(mediatypes.GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if head.startswith(mediatypes.ZSTD_MAGIC):
        try:
            import zstandard
        except ImportError as err:
            raise InvalidArgument("zstd-compressed data needs the zstandard package") from err
        return zstandard.ZstdDecompressor().stream_reader(stream)
    if head.startswith(mediatypes.BZIP2_MAGIC):
        return bz2.BZ2File(stream, "rb")
    if head.startswith(mediatypes.XZ_MAGIC):
        return lzma.LZMAFile(stream, "rb")
    return stream


def digest_stream(src: Reader) -> tuple[str, int]:
    """sha256 digest and length of everything `src` yields."""
    hasher = hashlib.sha256()
    total = 0
    while chunk := src.read(CHUNK):
        hasher.update(chunk)
        total += len(chunk)
    return "sha256:" + hasher.hexdigest(), total
