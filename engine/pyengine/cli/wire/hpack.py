"""HPACK (RFC 7541): a full decoder (static and dynamic tables, Huffman strings, table size
updates) and an encoder that writes literals without indexing (so it keeps no table state)."""

from __future__ import annotations

from pyengine.cli.wire import huffman

# RFC 7541 Appendix A: index 1..61.
STATIC_TABLE: tuple[tuple[str, str], ...] = (
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
)
ENTRY_OVERHEAD = 32  # RFC 7541 section 4.1
DEFAULT_TABLE_SIZE = 4096


class HpackError(ValueError):
    """A header block cannot be decoded (a COMPRESSION_ERROR, RFC 9113 section 4.3)."""


def decode_int(data: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    """The integer at data[pos] with an N-bit prefix (RFC 7541 section 5.1); (value, next)."""
    if pos >= len(data):
        raise HpackError("header block truncated in an integer")
    limit = (1 << prefix_bits) - 1
    value = data[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data):
            raise HpackError("header block truncated in an integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
        if shift > 28:
            raise HpackError("integer too large in a header block")


def encode_int(value: int, prefix_bits: int, flags: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((flags | value,))
    out = bytearray((flags | limit,))
    value -= limit
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_string(data: bytes, pos: int) -> tuple[str, int]:
    if pos >= len(data):
        raise HpackError("header block truncated in a string")
    coded = data[pos] & 0x80
    length, pos = decode_int(data, pos, 7)
    end = pos + length
    if end > len(data):
        raise HpackError("header block truncated in a string")
    raw = data[pos:end]
    if coded:
        try:
            raw = huffman.decode(raw)
        except huffman.HuffmanError as err:
            raise HpackError(str(err)) from None
    # header values are ASCII in gRPC; latin-1 keeps any byte (grpc-message is percent-encoded)
    return raw.decode("latin-1"), end


def encode_string(text: str) -> bytes:
    raw = text.encode("latin-1")
    return encode_int(len(raw), 7) + raw


def encode_headers(headers: list[tuple[str, str]]) -> bytes:
    """Literal header fields without indexing, new names (RFC 7541 section 6.2.2)."""
    out = bytearray()
    for name, value in headers:
        out += b"\x00" + encode_string(name) + encode_string(value)
    return bytes(out)


class Decoder:
    """One connection's decoding context: the dynamic table persists across header blocks."""

    def __init__(self, max_size: int = DEFAULT_TABLE_SIZE) -> None:
        self.max_size = max_size  # the limit we announced (SETTINGS_HEADER_TABLE_SIZE)
        self.size_limit = max_size  # the encoder's current choice (<= max_size)
        self.table: list[tuple[str, str]] = []  # newest first
        self.size = 0

    def _entry(self, index: int) -> tuple[str, str]:
        if index <= 0:
            raise HpackError("header index 0")
        if index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        dynamic = index - len(STATIC_TABLE) - 1
        if dynamic >= len(self.table):
            raise HpackError(f"header index {index} is past the table")
        return self.table[dynamic]

    def _evict(self, limit: int) -> None:
        while self.size > limit and self.table:
            name, value = self.table.pop()
            self.size -= len(name) + len(value) + ENTRY_OVERHEAD

    def _add(self, name: str, value: str) -> None:
        entry = len(name) + len(value) + ENTRY_OVERHEAD
        if entry > self.size_limit:
            self.table.clear()  # section 4.4: an entry larger than the table empties it
            self.size = 0
            return
        self._evict(self.size_limit - entry)
        self.table.insert(0, (name, value))
        self.size += entry

    def decode(self, block: bytes) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        pos = 0
        end = len(block)
        seen_field = False
        while pos < end:
            byte = block[pos]
            if byte & 0x80:  # indexed field (6.1)
                index, pos = decode_int(block, pos, 7)
                headers.append(self._entry(index))
                seen_field = True
                continue
            if byte & 0xE0 == 0x20:  # dynamic table size update (6.3)
                if seen_field:
                    raise HpackError("table size update after a header field")
                size, pos = decode_int(block, pos, 5)
                if size > self.max_size:
                    raise HpackError(f"table size update {size} above the limit {self.max_size}")
                self.size_limit = size
                self._evict(size)
                continue
            if byte & 0x40:  # literal with incremental indexing (6.2.1)
                index, pos = decode_int(block, pos, 6)
                add = True
            else:  # literal without indexing (6.2.2) or never indexed (6.2.3)
                index, pos = decode_int(block, pos, 4)
                add = False
            if index:
                name = self._entry(index)[0]
            else:
                name, pos = decode_string(block, pos)
            value, pos = decode_string(block, pos)
            if add:
                self._add(name, value)
            headers.append((name, value))
            seen_field = True
        return headers
