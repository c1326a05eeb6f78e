"""HPACK's Huffman code (RFC 7541 section 5.2, Appendix B), decoding and encoding.

The code is canonical (RFC 7541 Appendix B: codes of one length are consecutive, in symbol
order, and each length starts where the shorter ones ended), so the table is just the code
length of each symbol 0..255 and EOS (256); the codes are derived from the lengths.
"""

from __future__ import annotations

# Code length (bits) of symbols 0..256, from RFC 7541 Appendix B, as runs of (count, length).
_RUNS = (
    (1, 13), (1, 23), (7, 28), (1, 24), (1, 30), (2, 28), (1, 30), (8, 28), (1, 30), (9, 28),
    # 32 ' ' .. 47 '/'
    (1, 6), (2, 10), (1, 12), (1, 13), (1, 6), (1, 8), (1, 11), (2, 10), (1, 8), (1, 11),
    (1, 8), (3, 6),
    # 48 '0' .. 64 '@'
    (3, 5), (7, 6), (1, 7), (1, 8), (1, 15), (1, 6), (1, 12), (1, 10), (1, 13),
    # 65 'A' .. 96 '`'
    (1, 6), (22, 7), (1, 8), (1, 7), (1, 8), (1, 13), (1, 19), (1, 13), (1, 14), (1, 6),
    (1, 15),
    # 97 'a' .. 127
    (1, 5), (1, 6), (1, 5), (1, 6), (1, 5), (3, 6), (1, 5), (2, 7), (3, 6), (1, 5), (1, 6),
    (1, 7), (1, 6), (2, 5), (1, 6), (5, 7), (1, 15), (1, 11), (1, 14), (1, 13), (1, 28),
    # 128 .. 191
    (1, 20), (1, 22), (2, 20), (3, 22), (1, 23), (1, 22), (5, 23), (1, 24), (1, 23), (2, 24),
    (1, 22), (1, 23), (1, 24), (4, 23), (1, 21), (1, 22), (1, 23), (1, 22), (2, 23), (1, 24),
    (1, 22), (1, 21), (1, 20), (2, 22), (2, 23), (1, 21), (1, 23), (2, 22), (1, 24), (1, 21),
    (1, 22), (2, 23), (2, 21), (1, 22), (1, 21), (1, 23), (1, 22), (2, 23), (1, 20), (3, 22),
    (1, 23), (2, 22), (1, 23),
    # 192 .. 255, EOS
    (2, 26), (1, 20), (1, 19), (1, 22), (1, 23), (1, 22), (1, 25), (3, 26), (2, 27), (1, 26),
    (1, 24), (1, 25), (1, 19), (1, 21), (1, 26), (2, 27), (1, 26), (1, 27), (1, 24), (2, 21),
    (2, 26), (1, 28), (3, 27), (1, 20), (1, 24), (1, 20), (1, 21), (1, 22), (2, 21), (1, 23),
    (2, 22), (2, 25), (2, 24), (1, 26), (1, 23), (1, 26), (1, 27), (2, 26), (5, 27), (1, 28),
    (5, 27), (1, 26), (1, 30),
)
EOS = 256


def lengths() -> list[int]:
    out: list[int] = []
    for count, length in _RUNS:
        out += [length] * count
    return out


def codes() -> list[tuple[int, int]]:
    """(code, length) of each symbol 0..256, assigned canonically from the lengths."""
    lens = lengths()
    order = sorted(range(len(lens)), key=lambda sym: (lens[sym], sym))
    out = [(0, 0)] * len(lens)
    code = 0
    prev = lens[order[0]]
    for sym in order:
        code <<= lens[sym] - prev
        prev = lens[sym]
        out[sym] = (code, prev)
        code += 1
    return out


class HuffmanError(ValueError):
    """A Huffman-coded string is malformed (RFC 7541 section 5.2)."""


# Decoding: per code length, the first code of that length and the symbols in code order.
# A code is matched bit by bit, one comparison per length (canonical decoding).
_tables: tuple[list[int], list[int], list[int]] | None = None


def _decode_tables() -> tuple[list[int], list[int], list[int]]:
    global _tables
    if _tables is None:
        table = codes()
        first = [-1] * 31
        count = [0] * 31
        symbols = sorted(range(len(table)), key=lambda s: (table[s][1], table[s][0]))
        for code, length in table:
            if first[length] < 0 or code < first[length]:
                first[length] = code
            count[length] += 1
        _tables = (first, count, symbols)
    return _tables


def decode(data: bytes) -> bytes:
    first, count, symbols = _decode_tables()
    out = bytearray()
    code = 0
    length = 0
    base = 0  # index in `symbols` of the first code of the current length
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            if length > 30:
                raise HuffmanError("Huffman code longer than 30 bits")
            n = count[length]
            if n and code - first[length] < n:
                sym = symbols[base + code - first[length]]
                if sym == EOS:
                    raise HuffmanError("EOS in a Huffman-coded string")
                out.append(sym)
                code = length = base = 0
            else:
                base += n
    # padding: at most 7 bits, all ones (the most significant bits of EOS)
    if length > 7 or code != (1 << length) - 1:
        raise HuffmanError("bad padding at the end of a Huffman-coded string")
    return bytes(out)


def encode(data: bytes) -> bytes:
    table = codes()
    acc = 0
    bits = 0
    for byte in data:
        code, length = table[byte]
        acc = (acc << length) | code
        bits += length
    pad = -bits % 8
    acc = (acc << pad) | ((1 << pad) - 1)
    return acc.to_bytes((bits + pad) // 8, "big")
