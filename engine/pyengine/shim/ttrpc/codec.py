"""ttrpc's envelopes, encoded as protobuf by hand (no generated code, no protobuf import).

    Request  {1: service string, 2: method string, 3: payload bytes, 4: timeout_nano int64,
              5: metadata repeated KeyValue {1: key string, 2: value string}}
    Response {1: status google.rpc.Status, 2: payload bytes}
    Status   {1: code int32, 2: message string, 3: details repeated Any {1: type_url, 2: value}}

Decoding skips unknown fields, as protobuf does; malformed input raises ProtocolError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .errors import OK, ProtocolError

_VARINT = 0
_I64 = 1
_LEN = 2
_I32 = 5

Metadata = tuple[tuple[str, str], ...]


class Request(NamedTuple):
    service: str
    method: str
    payload: bytes = b""
    timeout_nano: int = 0
    metadata: Metadata = ()


class Status(NamedTuple):
    code: int = OK
    message: str = ""
    details: tuple[tuple[str, bytes], ...] = ()


class Response(NamedTuple):
    status: Status = Status()
    payload: bytes = b""


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _tag(number, _LEN) + _varint(len(value)) + value if value else b""


def _str_field(number: int, value: str) -> bytes:
    return _bytes_field(number, value.encode())


def _int_field(number: int, value: int) -> bytes:
    return _tag(number, _VARINT) + _varint(value) if value else b""


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ProtocolError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtocolError("varint longer than 10 bytes")


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field: ints for varints, bytes for the rest."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtocolError("field number 0")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
            yield number, wire, value
        elif wire == _LEN:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise ProtocolError(f"field {number}: length {length} beyond the message")
            yield number, wire, buf[pos:pos + length]
            pos += length
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            if pos + size > len(buf):
                raise ProtocolError(f"field {number}: truncated fixed-size value")
            yield number, wire, buf[pos:pos + size]
            pos += size
        else:
            raise ProtocolError(f"field {number}: unsupported wire type {wire}")


def _as_bytes(number: int, wire: int, value: int | bytes) -> bytes:
    if wire != _LEN or not isinstance(value, bytes):
        raise ProtocolError(f"field {number}: expected a length-delimited value")
    return value


def _utf8(number: int, raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ProtocolError(f"field {number}: string is not UTF-8") from None


def _as_str(number: int, wire: int, value: int | bytes) -> str:
    return _utf8(number, _as_bytes(number, wire, value))


def _pair(buf: bytes) -> tuple[bytes, bytes]:
    """Fields 1 and 2 of a two-field message of strings/bytes (KeyValue, Any)."""
    first = second = b""
    for number, wire, value in _fields(buf):
        if number == 1:
            first = _as_bytes(number, wire, value)
        elif number == 2:
            second = _as_bytes(number, wire, value)
    return first, second


def _as_int(number: int, wire: int, value: int | bytes, bits: int) -> int:
    if wire != _VARINT or not isinstance(value, int):
        raise ProtocolError(f"field {number}: expected a varint")
    value &= (1 << 64) - 1
    if bits == 32:
        value &= 0xFFFFFFFF
    return value - (1 << bits) if value >> (bits - 1) else value


def encode_request(req: Request) -> bytes:
    out = [
        _str_field(1, req.service), _str_field(2, req.method), _bytes_field(3, req.payload),
        _int_field(4, req.timeout_nano),
    ]
    for key, value in req.metadata:
        entry = _str_field(1, key) + _str_field(2, value)
        out.append(_tag(5, _LEN) + _varint(len(entry)) + entry)
    return b"".join(out)


def decode_request(buf: bytes) -> Request:
    service = method = ""
    payload = b""
    timeout = 0
    metadata: list[tuple[str, str]] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            service = _as_str(number, wire, value)
        elif number == 2:
            method = _as_str(number, wire, value)
        elif number == 3:
            payload = _as_bytes(number, wire, value)
        elif number == 4:
            timeout = _as_int(number, wire, value, 64)
        elif number == 5:
            key, val = _pair(_as_bytes(number, wire, value))
            metadata.append((_utf8(5, key), _utf8(5, val)))
    return Request(service, method, payload, timeout, tuple(metadata))


def encode_status(status: Status) -> bytes:
    out = [_int_field(1, status.code), _str_field(2, status.message)]
    for type_url, value in status.details:
        entry = _str_field(1, type_url) + _bytes_field(2, value)
        out.append(_tag(3, _LEN) + _varint(len(entry)) + entry)
    return b"".join(out)


def decode_status(buf: bytes) -> Status:
    code = OK
    message = ""
    details: list[tuple[str, bytes]] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            code = _as_int(number, wire, value, 32)
        elif number == 2:
            message = _as_str(number, wire, value)
        elif number == 3:
            type_url, data = _pair(_as_bytes(number, wire, value))
            details.append((_utf8(3, type_url), data))
    return Status(code, message, tuple(details))


def encode_response(resp: Response) -> bytes:
    status = encode_status(resp.status)
    # The status is always present (an OK status encodes as an empty message), as ttrpc-go sends it.
    return _tag(1, _LEN) + _varint(len(status)) + status + _bytes_field(2, resp.payload)


def decode_response(buf: bytes) -> Response:
    status = Status()
    payload = b""
    for number, wire, value in _fields(buf):
        if number == 1:
            status = decode_status(_as_bytes(number, wire, value))
        elif number == 2:
            payload = _as_bytes(number, wire, value)
    return Response(status, payload)
