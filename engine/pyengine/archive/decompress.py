"""Streaming decompression of a layer blob in a background thread.

The producer thread reads the compressed stream, decompresses it in bounded chunks (zlib and
zstandard release the GIL while they work), feeds the sha256 that becomes the diff_id and hands
the chunks to the consumer through a small queue, so decompression overlaps with extraction on a
second core. Output is bounded per call, so a decompression bomb is stopped by the byte limit
before it can fill memory. gzip goes through ISA-L (the optional `isal` package, about twice as
fast as zlib here) when it is installed, zlib otherwise.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pyengine.archive.errors import CorruptLayer, LayerTooLarge, UnsupportedLayer
from pyengine.archive.types import Reader

if TYPE_CHECKING:
    # isal_zlib has zlib's API; checked as zlib (isal's own stub types `error` as an instance)
    _inflate = zlib
else:
    try:
        from isal import isal_zlib as _inflate
    except ImportError:  # pragma: no cover - depends on the installation
        _inflate = zlib

Compression = Literal["gzip", "zstd", "none"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_SIZE = 1 << 20
CHUNK_SIZE = 1 << 20
QUEUE_DEPTH = 8

_LAYER_TYPES: dict[str, Compression] = {
    "application/vnd.oci.image.layer.v1.tar": "none",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
    "application/vnd.docker.image.rootfs.diff.tar": "none",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
    "application/x-tar": "none",
}


def compression_for_media_type(media_type: str | None) -> Compression | None:
    """The compression a layer media type declares; None when only the magic can tell."""
    if not media_type:
        return None
    try:
        return _LAYER_TYPES[media_type]
    except KeyError:
        raise UnsupportedLayer(f"apply layer: unsupported media type {media_type!r}") from None


def detect_compression(head: bytes) -> Compression:
    """The compression of a stream, from its first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class _PrefixedStream:
    """A read-only stream that first returns already-read bytes, then the rest of `inner`."""

    def __init__(self, prefix: bytes, inner: Reader) -> None:
        self._prefix = prefix
        self._inner = inner

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix, b""
            return data
        return self._inner.read(n)


def _gzip_chunks(src: _PrefixedStream) -> Iterator[bytes]:
    """Decompress one or more concatenated gzip members, CHUNK_SIZE bytes at most per chunk."""
    d = _inflate.decompressobj(31)
    pending = b""
    while True:
        data, pending = pending or src.read(READ_SIZE), b""
        if not data:
            break
        if d.eof:  # after a member: another member, or zero padding
            if len(data) < len(GZIP_MAGIC):
                more = src.read(READ_SIZE)
                if more:
                    pending = data + more
                    continue
            if data.startswith(GZIP_MAGIC):
                d = _inflate.decompressobj(31)
            elif data.strip(b"\0"):
                raise CorruptLayer("apply layer: trailing garbage after the gzip stream")
            else:
                continue
        while data:
            try:
                out = d.decompress(data, CHUNK_SIZE)
            except _inflate.error as exc:
                raise CorruptLayer(f"apply layer: gzip stream is corrupt: {exc}") from exc
            if out:
                yield out
            if d.eof:
                pending = d.unused_data
                break
            data = d.unconsumed_tail
    while not d.eof:  # output zlib still holds after the last input
        try:
            out = d.decompress(b"", CHUNK_SIZE)
        except _inflate.error as exc:
            raise CorruptLayer(f"apply layer: gzip stream is corrupt: {exc}") from exc
        if not out:
            raise CorruptLayer("apply layer: gzip stream is truncated")
        yield out


class _ZstdFrames:
    """Follows zstd frame and block headers in the compressed bytes (without decompressing) to
    tell whether the stream ended on a frame boundary: the zstandard package's streaming reader
    reports a truncated stream as a silent end of data."""

    _SKIPPABLE = range(0x184D2A50, 0x184D2A60)

    def __init__(self) -> None:
        self._buf = b""
        self._need = 4
        self._skip = 0
        self._state = "magic"
        self._checksum = False

    @property
    def at_frame_boundary(self) -> bool:
        return self._state == "magic" and not self._buf and not self._skip

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._skip:
                take = min(self._skip, len(view))
                self._skip -= take
                view = view[take:]
                continue
            take = min(self._need - len(self._buf), len(view))
            self._buf += bytes(view[:take])
            view = view[take:]
            if len(self._buf) == self._need:
                field, self._buf = self._buf, b""
                self._advance(field)

    def _advance(self, field: bytes) -> None:
        value = int.from_bytes(field, "little")
        if self._state == "magic":
            if field == ZSTD_MAGIC:
                self._state, self._need = "descriptor", 1
            elif value in self._SKIPPABLE:
                self._state, self._need = "skippable", 4
            else:
                raise CorruptLayer("apply layer: zstd stream has garbage between frames")
        elif self._state == "skippable":
            self._skip = value
            self._state, self._need = "magic", 4
        elif self._state == "descriptor":
            single_segment = bool(value & 0x20)
            self._checksum = bool(value & 0x04)
            size_field = {0: 1 if single_segment else 0, 1: 2, 2: 4, 3: 8}[value >> 6]
            rest = (0 if single_segment else 1) + (0, 1, 2, 4)[value & 3] + size_field
            self._skip = rest
            self._state, self._need = "block", 3
        elif self._state == "block":
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:
                raise CorruptLayer("apply layer: zstd stream has a reserved block type")
            self._skip = 1 if kind == 1 else size
            if last:
                self._skip += 4 if self._checksum else 0
                self._state, self._need = "magic", 4


class _FrameCheckedStream:
    """Passes reads through, feeding the compressed bytes to a _ZstdFrames."""

    def __init__(self, inner: _PrefixedStream, frames: _ZstdFrames) -> None:
        self._inner = inner
        self._frames = frames

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        self._frames.feed(data)
        return data


def _zstd_chunks(src: _PrefixedStream) -> Iterator[bytes]:
    try:
        import zstandard
    except ImportError as exc:
        raise UnsupportedLayer(
            "apply layer: zstd layers need the 'zstandard' Python package") from exc
    frames = _ZstdFrames()
    reader = zstandard.ZstdDecompressor().stream_reader(
        _FrameCheckedStream(src, frames),  # type: ignore[arg-type]  # it only calls read()
        read_size=READ_SIZE, read_across_frames=True)
    while True:
        try:
            out = reader.read(CHUNK_SIZE)
        except zstandard.ZstdError as exc:
            raise CorruptLayer(f"apply layer: zstd stream is corrupt: {exc}") from exc
        if not out:
            break
        yield out
    if not frames.at_frame_boundary:
        raise CorruptLayer("apply layer: zstd stream is truncated")


def _plain_chunks(src: _PrefixedStream) -> Iterator[bytes]:
    while True:
        data = src.read(CHUNK_SIZE)
        if not data:
            return
        yield data


_DECODERS = {"gzip": _gzip_chunks, "zstd": _zstd_chunks, "none": _plain_chunks}


class ChunkSource:
    """Uncompressed chunks of a layer, produced by a background thread.

    Use as a context manager; `get()` returns the next chunk, b"" at the end. After the end,
    `diff_id` and `size` describe the whole uncompressed stream.
    """

    def __init__(self, stream: Reader, media_type: str | None, max_bytes: int) -> None:
        declared = compression_for_media_type(media_type)
        head = stream.read(4)
        # Like docker, trust the magic over the declared media type.
        self.compression: Compression = detect_compression(head) if head else (declared or "none")
        self._src = _PrefixedStream(head, stream)
        self._max_bytes = max_bytes
        # chunks, then None at the end or the producer's exception
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUE_DEPTH)
        self._stop = threading.Event()
        self._hash = hashlib.sha256()
        self.size = 0
        self._done = False
        self._thread = threading.Thread(target=self._produce, name="layer-decompress",
                                        daemon=True)

    def __enter__(self) -> ChunkSource:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for chunk in _DECODERS[self.compression](self._src):
                self.size += len(chunk)
                if self.size > self._max_bytes:
                    raise LayerTooLarge(
                        f"apply layer: uncompressed stream exceeds the limit of "
                        f"{self._max_bytes} bytes")
                self._hash.update(chunk)
                if not self._put(chunk):
                    return
            self._put(None)
        except BaseException as exc:  # handed over to the consumer thread
            self._put(exc)

    def get(self) -> bytes:
        """The next uncompressed chunk; b"" once the stream is exhausted."""
        if self._done:
            return b""
        item = self._queue.get()
        if item is None:
            self._done = True
            return b""
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item

    def drain(self) -> None:
        """Consume (and hash) the rest of the stream, e.g. the tar's trailing padding."""
        while self.get():
            pass

    def close(self) -> None:
        """Stop the producer (if still running) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()
