"""A streaming tar reader: ustar, GNU and PAX headers, GNU long names and sparse files.

Names are kept as bytes (tar names need not be UTF-8). Entry data is handed out as memoryview
slices of the decompressed chunks, so file contents are never copied in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pyengine.archive.errors import CorruptLayer, UnsupportedLayer

BLOCK = 512

REGULAR = b"0"
HARDLINK = b"1"
SYMLINK = b"2"
CHARDEV = b"3"
BLOCKDEV = b"4"
DIRECTORY = b"5"
FIFO = b"6"
CONTIGUOUS = b"7"
_PAX_LOCAL = b"x"
_PAX_GLOBAL = b"g"
_GNU_LONGNAME = b"L"
_GNU_LONGLINK = b"K"
_GNU_SPARSE = b"S"
_META_TYPES = {_PAX_LOCAL, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK}
_MAX_META_SIZE = 16 << 20


@dataclass
class TarEntry:
    """One tar member with its (PAX-overridden) metadata."""

    name: bytes
    type: bytes
    mode: int
    uid: int
    gid: int
    size: int  # bytes of data stored in the archive
    mtime_ns: int
    atime_ns: int | None
    linkname: bytes
    devmajor: int
    devminor: int
    xattrs: list[tuple[str, bytes]] = field(default_factory=list)
    sparse: list[tuple[int, int]] | None = None  # (offset, length) segments
    realsize: int | None = None  # apparent size of a sparse file

    @property
    def apparent_size(self) -> int:
        return self.realsize if self.realsize is not None else self.size


def _parse_number(field_bytes: bytes, what: str) -> int:
    if field_bytes and field_bytes[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field_bytes, "big", signed=False)
        value &= (1 << (8 * len(field_bytes) - 1)) - 1
        if field_bytes[0] & 0x40:  # negative
            value -= 1 << (8 * len(field_bytes) - 1)
        return value
    text = field_bytes.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise CorruptLayer(f"read tar: bad numeric field {what}: {field_bytes!r}") from None


def _checksum_ok(block: bytes) -> bool:
    stored = block[148:156]
    total = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    try:
        return _parse_number(stored, "chksum") == total
    except CorruptLayer:
        return False


def _parse_pax(data: bytes) -> dict[str, bytes]:
    """PAX records "<len> <key>=<value>\\n"; values stay bytes (xattr values are binary)."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise CorruptLayer("read tar: malformed PAX record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise CorruptLayer("read tar: malformed PAX record length") from None
        record = data[space + 1:pos + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise CorruptLayer("read tar: malformed PAX record")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value
        pos += length
    return records


def _pax_time_ns(value: bytes) -> int:
    text = value.decode("ascii", "replace")
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    try:
        return sign * (int(whole or "0") * 1_000_000_000 + int((frac + "000000000")[:9]))
    except ValueError:
        raise CorruptLayer(f"read tar: bad PAX time {text!r}") from None


def _pax_int(records: dict[str, bytes], key: str) -> int:
    try:
        return int(records[key])
    except ValueError:
        raise CorruptLayer(f"read tar: bad PAX {key} {records[key]!r}") from None


class TarReader:
    """Iterates over the entries of a tar stream given as a chunk supplier."""

    def __init__(self, next_chunk: Callable[[], bytes]) -> None:
        self._next_chunk = next_chunk
        self._buf = b""
        self._pos = 0
        self._unread_data = 0  # data (incl. padding) of the current entry not consumed yet
        self._data_size = 0  # size of the current entry's data, until data() takes it
        self._global: dict[str, bytes] = {}

    # -- low level -------------------------------------------------------------------------
    def _fill(self) -> bool:
        chunk = self._next_chunk()
        if not chunk:
            return False
        if self._pos < len(self._buf):
            self._buf = self._buf[self._pos:] + chunk
        else:
            self._buf = chunk
        self._pos = 0
        return True

    def _read_exact(self, n: int, what: str) -> bytes:
        while len(self._buf) - self._pos < n:
            if not self._fill():
                raise CorruptLayer(f"read tar: stream truncated in {what}")
        data = self._buf[self._pos:self._pos + n]
        self._pos += n
        return data

    def _views(self, n: int) -> Iterator[memoryview]:
        """Yield the next n bytes as memoryview slices, without copying."""
        while n > 0:
            avail = len(self._buf) - self._pos
            if avail <= 0:
                if not self._fill():
                    raise CorruptLayer("read tar: stream truncated in entry data")
                continue
            take = min(avail, n)
            view = memoryview(self._buf)[self._pos:self._pos + take]
            self._pos += take
            n -= take
            self._unread_data -= take
            yield view

    def _skip(self, n: int) -> None:
        for _ in self._views(n):
            pass

    # -- entries ---------------------------------------------------------------------------
    def data(self) -> Iterator[memoryview]:
        """The current entry's data, as memoryview slices (call at most once per entry)."""
        size = self._data_size
        self._data_size = 0
        return self._views(size)

    def entries(self) -> Iterator[TarEntry]:
        """Each member in order; skips data the caller did not read."""
        self._data_size = 0
        while True:
            if self._unread_data:
                self._skip(self._unread_data)
            entry = self._next_entry()
            if entry is None:
                return
            yield entry

    def _next_entry(self) -> TarEntry | None:
        local: dict[str, bytes] = {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        while True:
            if len(self._buf) - self._pos < BLOCK and not self._has_more(BLOCK):
                if len(self._buf) - self._pos == 0:
                    return None  # EOF at a header boundary: accept like Go's reader
                raise CorruptLayer("read tar: stream truncated in a header")
            block = self._read_exact(BLOCK, "a header")
            if block.count(0) == BLOCK:
                return None  # end-of-archive marker
            if not _checksum_ok(block):
                raise CorruptLayer("read tar: header checksum mismatch (not a tar stream?)")
            typeflag = block[156:157]
            size = _parse_number(block[124:136], "size")
            if size < 0:
                raise CorruptLayer("read tar: negative entry size")
            if typeflag in _META_TYPES:
                if size > _MAX_META_SIZE:
                    raise CorruptLayer(f"read tar: {typeflag!r} header of {size} bytes")
                payload = self._read_exact(size, "an extended header")
                self._skip_padding(size)
                if typeflag == _PAX_LOCAL:
                    local.update(_parse_pax(payload))
                elif typeflag == _PAX_GLOBAL:
                    self._global.update(_parse_pax(payload))
                elif typeflag == _GNU_LONGNAME:
                    long_name = payload.split(b"\0", 1)[0]
                else:
                    long_link = payload.split(b"\0", 1)[0]
                continue
            records = {**self._global, **local} if self._global else local
            entry = self._make_entry(block, typeflag, size, records, long_name, long_link)
            padded = (entry.size + BLOCK - 1) // BLOCK * BLOCK
            self._unread_data = padded
            self._data_size = entry.size
            if entry.sparse is not None and entry.type == _GNU_SPARSE:
                entry.type = REGULAR
            if records.get("GNU.sparse.major") == b"1":
                self._read_sparse_map_v1(entry)
            return entry

    def _has_more(self, n: int) -> bool:
        while len(self._buf) - self._pos < n:
            if not self._fill():
                return False
        return True

    def _skip_padding(self, size: int) -> None:
        pad = -size % BLOCK
        if pad:
            self._read_exact(pad, "padding")

    def _make_entry(self, block: bytes, typeflag: bytes, size: int, records: dict[str, bytes],
                    long_name: bytes | None, long_link: bytes | None) -> TarEntry:
        magic = block[257:263]
        name = block[0:100].split(b"\0", 1)[0]
        if magic == b"ustar\0":
            prefix = block[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        if long_name is not None:
            name = long_name
        linkname = long_link if long_link is not None else block[157:257].split(b"\0", 1)[0]
        mtime_ns = _parse_number(block[136:148], "mtime") * 1_000_000_000
        entry = TarEntry(
            name=name, type=typeflag if typeflag != b"\0" else REGULAR,
            mode=_parse_number(block[100:108], "mode") & 0o7777,
            uid=_parse_number(block[108:116], "uid"), gid=_parse_number(block[116:124], "gid"),
            size=size, mtime_ns=mtime_ns, atime_ns=None, linkname=linkname,
            devmajor=_parse_number(block[329:337], "devmajor"),
            devminor=_parse_number(block[337:345], "devminor"))
        if typeflag == _GNU_SPARSE:
            self._old_gnu_sparse(block, entry)
        if records:
            self._apply_pax(entry, records)
        return entry

    def _apply_pax(self, entry: TarEntry, records: dict[str, bytes]) -> None:
        for key, value in records.items():
            if key == "path":
                entry.name = value
            elif key == "linkpath":
                entry.linkname = value
            elif key == "size":
                entry.size = _pax_int(records, key)
            elif key == "uid":
                entry.uid = _pax_int(records, key)
            elif key == "gid":
                entry.gid = _pax_int(records, key)
            elif key == "mtime":
                entry.mtime_ns = _pax_time_ns(value)
            elif key == "atime":
                entry.atime_ns = _pax_time_ns(value)
            elif key.startswith("SCHILY.xattr."):
                entry.xattrs.append((key[len("SCHILY.xattr."):], value))
        major = records.get("GNU.sparse.major")
        if major is not None and major != b"1":
            raise UnsupportedLayer(f"read tar: GNU sparse format {major!r} is not supported")
        if "GNU.sparse.map" in records:  # format 0.1
            numbers = [int(x) for x in records["GNU.sparse.map"].split(b",") if x]
            entry.sparse = list(zip(numbers[0::2], numbers[1::2], strict=True))
        if "GNU.sparse.name" in records:
            entry.name = records["GNU.sparse.name"]
        for key in ("GNU.sparse.realsize", "GNU.sparse.size"):
            if key in records:
                entry.realsize = _pax_int(records, key)

    def _old_gnu_sparse(self, block: bytes, entry: TarEntry) -> None:
        segments = self._sparse_segments(block[386:482])
        extended = block[482]
        entry.realsize = _parse_number(block[483:495], "realsize")
        while extended:
            ext = self._read_exact(BLOCK, "a sparse extension header")
            segments += self._sparse_segments(ext[0:504])
            extended = ext[504]
        entry.sparse = segments

    @staticmethod
    def _sparse_segments(area: bytes) -> list[tuple[int, int]]:
        segments = []
        for i in range(0, len(area) - 23, 24):
            if area[i] == 0:
                break
            segments.append((_parse_number(area[i:i + 12], "sparse offset"),
                             _parse_number(area[i + 12:i + 24], "sparse length")))
        return segments

    def _read_sparse_map_v1(self, entry: TarEntry) -> None:
        """PAX sparse 1.0: the map is decimal lines at the start of the data."""
        consumed = 0

        def line() -> int:
            nonlocal consumed
            digits = b""
            while True:
                c = self._read_exact(1, "a sparse map")
                consumed += 1
                if c == b"\n":
                    break
                digits += c
                if len(digits) > 20:
                    raise CorruptLayer("read tar: malformed sparse map")
            try:
                return int(digits)
            except ValueError:
                raise CorruptLayer("read tar: malformed sparse map") from None

        count = line()
        if count > 1_000_000:
            raise CorruptLayer("read tar: sparse map too long")
        entry.sparse = [(line(), line()) for _ in range(count)]
        pad = -consumed % BLOCK
        self._read_exact(pad, "a sparse map")
        consumed += pad
        entry.size -= consumed
        self._data_size = entry.size
        self._unread_data -= consumed
