"""Tar headers as pyctl build writes them (POSIX ustar, with a PAX extended header before an
entry whose name, link target or size does not fit), and the check that a block is one.

tarfile would do, but importing it (with shutil, re and enum) costs more than the rest of
pyctl build's start-up; these few formats are all the context stream needs.
"""

from __future__ import annotations

BLOCK = 512
REGTYPE, LNKTYPE, SYMTYPE, CHRTYPE, BLKTYPE, DIRTYPE, FIFOTYPE = b"0", b"1", b"2", b"3", b"4", \
    b"5", b"6"
_PAX = b"x"
_MAX_OCTAL_SIZE = 8**11 - 1  # 11 octal digits in the 12-byte size field


def _octal(value: int, width: int) -> bytes:
    """A NUL-terminated octal field of `width` bytes."""
    return b"%0*o\0" % (width - 1, value)


def _ustar(name: bytes, mode: int, size: int, mtime: int, kind: bytes, linkname: bytes,
           devmajor: int = 0, devminor: int = 0) -> bytes:
    head = b"".join((
        name.ljust(100, b"\0"), _octal(mode, 8), _octal(0, 8), _octal(0, 8),
        _octal(size, 12), _octal(mtime, 12), b" " * 8, kind, linkname.ljust(100, b"\0"),
        b"ustar\x0000", b"\0" * 32, b"\0" * 32, _octal(devmajor, 8), _octal(devminor, 8),
        b"\0" * 155,
    )).ljust(BLOCK, b"\0")
    checksum = b"%06o\0 " % sum(head)
    return head[:148] + checksum + head[156:]


def _pax_record(key: str, value: bytes) -> bytes:
    body = b" " + key.encode() + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length = len(str(length)) + len(body)
    return str(length).encode() + body


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % BLOCK)


def header(name: str, mode: int, size: int, mtime: int, kind: bytes, linkname: str = "",
           devmajor: int = 0, devminor: int = 0) -> bytes:
    """The header block(s) of one entry, owned by 0:0 with no user or group names (as docker's
    client writes a build context)."""
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = linkname.encode("utf-8", "surrogateescape")
    records = b""
    if len(raw_name) > 100 or not raw_name.isascii():
        records += _pax_record("path", raw_name)
        raw_name = raw_name[:100].decode("ascii", "replace").encode("ascii", "replace")
    if len(raw_link) > 100 or not raw_link.isascii():
        records += _pax_record("linkpath", raw_link)
        raw_link = raw_link[:100].decode("ascii", "replace").encode("ascii", "replace")
    if size > _MAX_OCTAL_SIZE:
        records += _pax_record("size", str(size).encode())
    mtime = max(0, mtime)
    entry = _ustar(raw_name, mode, size if size <= _MAX_OCTAL_SIZE else 0, mtime, kind,
                   raw_link, devmajor, devminor)
    if not records:
        return entry
    pax_name = b"PaxHeaders.0/" + raw_name[-80:]
    return _ustar(pax_name[:100], 0o644, len(records), mtime, _PAX, b"") + _padded(records) \
        + entry


def is_header(block: bytes) -> bool:
    """Whether `block` is a tar header (its checksum is right; an all-zero block is not)."""
    if len(block) < BLOCK or not block[:BLOCK].strip(b"\0"):
        return False
    field = block[148:156].strip(b" \0")
    try:
        expected = int(field, 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:BLOCK])
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 8 * 32 \
        + sum(b - 256 if b > 127 else b for b in block[156:BLOCK])
    return expected in (unsigned, signed)
