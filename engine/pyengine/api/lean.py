"""The protobuf wire format in plain Python, for the *_lean.py message classes tools/gen-proto
writes next to the *_pb2.py modules (pyctl's start-up path: importing google.protobuf and the
generated descriptors cost more than the rest of a `pyctl ps`).

A lean class lists its fields as (number, name, kind, label, aux) records in ``_fields``;
this module encodes and decodes by that table. Semantics follow proto3 as the protobuf library
implements them: scalars without presence are written only when not the default; proto3
``optional`` fields, oneof members and message fields are written when set (``HasField``);
repeated numeric fields are packed (and read packed or not); map entries carry key and value;
unknown fields are skipped. What a lean message does not do: reflection, JSON, unknown-field
preservation, and mutation through a chain of unset submessages (``m.sub.x = 1`` when ``sub``
is unset changes a temporary: assign ``m.sub = Sub(x=1)`` instead).

Only builtins are imported (struct for fixed-width fields, at its first use): no typing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from typing import Any, Self

# field kinds (the protobuf scalar types, then message and map)
INT32, INT64, UINT32, UINT64, SINT32, SINT64, BOOL, ENUM = 1, 2, 3, 4, 5, 6, 7, 8
FIXED32, SFIXED32, FLOAT, FIXED64, SFIXED64, DOUBLE = 9, 10, 11, 12, 13, 14
STRING, BYTES, MESSAGE, MAP = 15, 16, 17, 18
# labels
PLAIN, PRESENCE, REPEATED, UNPACKED = 0, 1, 2, 3  # UNPACKED: repeated with [packed = false]

_MASK64 = (1 << 64) - 1
_VARINT_KINDS = frozenset((INT32, INT64, UINT32, UINT64, SINT32, SINT64, BOOL, ENUM))
_I32_KINDS = {FIXED32: "<I", SFIXED32: "<i", FLOAT: "<f"}
_I64_KINDS = {FIXED64: "<Q", SFIXED64: "<q", DOUBLE: "<d"}
_DEFAULTS: dict[int, object] = {STRING: "", BYTES: b"", BOOL: False, FLOAT: 0.0, DOUBLE: 0.0}


class DecodeError(ValueError):
    """Bytes that are not a valid encoding of the message."""


def wire_type(kind: int) -> int:
    if kind in _VARINT_KINDS:
        return 0
    if kind in _I64_KINDS:
        return 1
    if kind in _I32_KINDS:
        return 5
    return 2


def default(kind: int) -> object:
    return _DEFAULTS.get(kind, 0)


# -- encoding --

def _varint(out: bytearray, value: int) -> None:
    value &= _MASK64
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _scalar(out: bytearray, kind: int, value: Any) -> None:
    """The value's bytes without a tag (a length prefix for strings and bytes)."""
    if kind == STRING:
        data = value.encode()
        _varint(out, len(data))
        out += data
    elif kind == BYTES:
        _varint(out, len(value))
        out += value
    elif kind == SINT32:
        _varint(out, ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF)
    elif kind == SINT64:
        _varint(out, (value << 1) ^ (value >> 63))
    elif kind in _VARINT_KINDS:
        _varint(out, int(value))
    else:
        import struct

        out += struct.pack(_I32_KINDS.get(kind) or _I64_KINDS[kind], value)


def _field(out: bytearray, number: int, kind: int, aux: Any, value: Any) -> None:
    if kind == MESSAGE:
        _varint(out, number << 3 | 2)
        data = value.SerializeToString()
        _varint(out, len(data))
        out += data
    else:
        _varint(out, number << 3 | wire_type(kind))
        _scalar(out, kind, value)


def encode(message: Message) -> bytes:
    out = bytearray()
    for number, name, kind, label, aux in message._fields:
        if label == PLAIN:
            if kind == MESSAGE:
                if _has(message, name):
                    _field(out, number, kind, aux, getattr(message, name))
                continue
            value = getattr(message, name)
            if value or (kind in (FLOAT, DOUBLE) and str(value) == "-0.0"):  # as protobuf: -0.0
                _field(out, number, kind, aux, value)
        elif label == PRESENCE:
            if _has(message, name):
                _field(out, number, kind, aux, getattr(message, name))
        elif kind == MAP:
            key_kind, value_kind, value_class = aux
            for key, item in getattr(message, name).items():
                entry = bytearray()
                _field(entry, 1, key_kind, None, key)
                _field(entry, 2, value_kind, value_class, item)
                _varint(out, number << 3 | 2)
                _varint(out, len(entry))
                out += entry
        else:
            values = getattr(message, name)
            if not values:
                continue
            if label == REPEATED and wire_type(kind) != 2:  # packed
                packed = bytearray()
                for item in values:
                    _scalar(packed, kind, item)
                _varint(out, number << 3 | 2)
                _varint(out, len(packed))
                out += packed
            else:
                for item in values:
                    _field(out, number, kind, aux, item)
    return bytes(out)


def _has(message: Message, name: str) -> bool:
    """Does the field's slot hold a value (a presence field or submessage that is set)?"""
    try:
        object.__getattribute__(message, name)
    except AttributeError:
        return False
    return True


# -- decoding --

def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    try:
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result & _MASK64, pos
            shift += 7
            if shift >= 70:
                raise DecodeError("varint longer than 10 bytes")
    except IndexError:
        raise DecodeError("truncated varint") from None


def _from_varint(kind: int, raw: int) -> Any:
    if kind in (INT32, ENUM):  # sign-extended to 64 bits on the wire
        raw &= 0xFFFFFFFF
        return raw - (1 << 32) if raw >> 31 else raw
    if kind == INT64:
        return raw - (1 << 64) if raw >> 63 else raw
    if kind == UINT32:
        return raw & 0xFFFFFFFF
    if kind == BOOL:
        return raw != 0
    if kind == SINT32:
        raw &= 0xFFFFFFFF
        return (raw >> 1) ^ -(raw & 1)
    if kind == SINT64:
        return (raw >> 1) ^ -(raw & 1)
    return raw  # UINT64


def _skip(data: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        return _read_varint(data, pos)[1]
    if wire == 1:
        pos += 8
    elif wire == 5:
        pos += 4
    elif wire == 2:
        size, pos = _read_varint(data, pos)
        pos += size
    else:
        raise DecodeError(f"unsupported wire type {wire}")
    if pos > len(data):
        raise DecodeError("truncated field")
    return pos


def _read_value(data: bytes, pos: int, kind: int, aux: Any) -> tuple[Any, int]:
    """One value of `kind` at `pos` (its wire type already checked)."""
    if kind in _VARINT_KINDS:
        raw, pos = _read_varint(data, pos)
        return _from_varint(kind, raw), pos
    fmt = _I32_KINDS.get(kind) or _I64_KINDS.get(kind)
    if fmt is not None:
        import struct

        end = pos + (4 if kind in _I32_KINDS else 8)
        if end > len(data):
            raise DecodeError("truncated fixed-width field")
        return struct.unpack(fmt, data[pos:end])[0], end
    size, pos = _read_varint(data, pos)
    end = pos + size
    if end > len(data):
        raise DecodeError("truncated length-delimited field")
    chunk = data[pos:end]
    if kind == STRING:
        try:
            return chunk.decode(), end
        except UnicodeDecodeError:
            raise DecodeError("string field is not valid UTF-8") from None
    if kind == BYTES:
        return bytes(chunk), end
    if kind == MESSAGE:
        return aux.FromString(chunk), end
    return _map_entry(chunk, aux), end


def _map_entry(data: bytes, aux: Any) -> tuple[Any, Any]:
    key_kind, value_kind, value_class = aux
    key, value = default(key_kind), None
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 1 and wire == wire_type(key_kind):
            key, pos = _read_value(data, pos, key_kind, None)
        elif number == 2 and wire == wire_type(value_kind):
            value, pos = _read_value(data, pos, value_kind, value_class)
        else:
            pos = _skip(data, pos, wire)
    if value is None:
        value = value_class() if value_kind == MESSAGE else default(value_kind)
    return key, value


def decode(message: Message, data: bytes) -> None:
    """Merge the encoded fields in `data` into `message` (as ParseFromString after Clear)."""
    by_number = type(message)._by_number()
    pos, end = 0, len(data)
    while pos < end:
        tag, pos = _read_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise DecodeError("field number 0")
        field = by_number.get(number)
        if field is None:
            pos = _skip(data, pos, wire)
            continue
        _, name, kind, label, aux = field
        expected = wire_type(kind) if kind != MAP else 2
        if label >= REPEATED and kind != MAP and wire == 2 and expected != 2:  # packed
            size, pos = _read_varint(data, pos)
            stop = pos + size
            if stop > end:
                raise DecodeError("truncated packed field")
            values = getattr(message, name)
            while pos < stop:
                value, pos = _read_value(data, pos, kind, aux)
                values.append(value)
            if pos != stop:
                raise DecodeError("packed field overruns its length")
            continue
        if wire != expected:
            pos = _skip(data, pos, wire)
            continue
        value, pos = _read_value(data, pos, kind, aux)
        if kind == MAP:
            getattr(message, name)[value[0]] = value[1]
        elif label >= REPEATED:
            getattr(message, name).append(value)
        elif kind == MESSAGE and _has(message, name):
            getattr(message, name).MergeFrom(value)
        else:
            setattr(message, name, value)


class Message:
    """Base of the generated lean classes. Subclasses set ``__slots__`` (one per field),
    ``_fields`` (bound after every class of the module exists), ``_oneofs`` and
    ``FULL_NAME``."""

    __slots__ = ()
    FULL_NAME = ""
    _fields: tuple[tuple[int, str, int, int, Any], ...] = ()
    _oneofs: dict[str, tuple[str, ...]] = {}  # oneof name -> member field names
    _numbers: dict[int, tuple[int, str, int, int, Any]] | None = None

    def __init__(self, **values: Any) -> None:
        for _, name, kind, label, _ in self._fields:
            if label >= REPEATED:
                object.__setattr__(self, name, {} if kind == MAP else [])
            elif label == PLAIN and kind != MESSAGE:
                object.__setattr__(self, name, default(kind))
        for name, value in values.items():
            if value is None:
                continue
            current = getattr(self, name)  # AttributeError for an unknown field
            if isinstance(current, list):
                current.extend(value)
            elif isinstance(current, dict):
                current.update(value)
            else:
                setattr(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """An unset presence field or submessage: its default (not stored: HasField stays
        False)."""
        for _, field_name, kind, _, aux in self._fields:
            if field_name == name:
                return aux() if kind == MESSAGE else default(kind)
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        for members in self._oneofs.values():
            if name in members:
                for other in members:
                    if other != name:
                        self.ClearField(other)
        object.__setattr__(self, name, value)

    @classmethod
    def _by_number(cls) -> dict[int, tuple[int, str, int, int, Any]]:
        numbers = cls.__dict__.get("_numbers")
        if numbers is None:
            numbers = {field[0]: field for field in cls._fields}
            cls._numbers = numbers
        return numbers

    def _set_names(self) -> set[str]:
        """The names of the fields that hold a value of their own (slots that are filled)."""
        return {field[1] for field in self._fields if _has(self, field[1])}

    def HasField(self, name: str) -> bool:  # protobuf's method names
        if name in self._oneofs:
            return self.WhichOneof(name) is not None
        for _, field_name, kind, label, _ in self._fields:
            if field_name == name:
                if label == PRESENCE or (label == PLAIN and kind == MESSAGE):
                    return _has(self, name)
                break
        raise ValueError(f"{self.FULL_NAME} has no presence field {name!r}")

    def WhichOneof(self, oneof: str) -> str | None:
        try:
            members = self._oneofs[oneof]
        except KeyError:
            raise ValueError(f"{self.FULL_NAME} has no oneof {oneof!r}") from None
        for name in members:
            if _has(self, name):
                return name
        return None

    def ClearField(self, name: str) -> None:
        for _, field_name, kind, label, _ in self._fields:
            if field_name == name:
                if label >= REPEATED:
                    object.__setattr__(self, name, {} if kind == MAP else [])
                elif label == PLAIN and kind != MESSAGE:
                    object.__setattr__(self, name, default(kind))
                elif _has(self, name):
                    object.__delattr__(self, name)
                return
        raise ValueError(f"{self.FULL_NAME} has no field {name!r}")

    def MergeFrom(self, other: Message) -> None:
        decode(self, other.SerializeToString())

    def SerializeToString(self) -> bytes:
        return encode(self)

    def ParseFromString(self, data: bytes) -> int:
        for _, name, _, _, _ in self._fields:
            self.ClearField(name)
        decode(self, data)
        return len(data)

    @classmethod
    def FromString(cls, data: bytes) -> Self:
        message = cls()
        decode(message, data)
        return message

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Message)
        present = self._set_names()
        if present != other._set_names():
            return False
        return all(getattr(self, name) == getattr(other, name) for name in present)

    __hash__ = None  # type: ignore[assignment]  # mutable, as protobuf's messages

    def __repr__(self) -> str:
        present = self._set_names()
        parts = []
        for _, name, kind, label, _ in self._fields:
            if name in present:
                value = getattr(self, name)
                if label != PLAIN or kind == MESSAGE or value:
                    parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Service:
    """A service of a lean module: ``METHODS`` maps a method name to its call kind
    ("unary_unary", "unary_stream", "stream_unary", "stream_stream") and message classes."""

    FULL_NAME = ""
    METHODS: dict[str, tuple[str, type[Message], type[Message]]] = {}
