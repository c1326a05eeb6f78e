"""ttrpc frames: a 10-byte header (data length and stream id as big-endian uint32, message type
and flags as one byte each) followed by at most 4 MiB of data."""

from __future__ import annotations

import asyncio
import struct
from typing import NamedTuple

from .errors import ProtocolError

HEADER = struct.Struct(">IIBB")
HEADER_SIZE = HEADER.size
MAX_MESSAGE = 4 << 20
# A length at or above this has a non-zero first byte, which the protocol reserves: what arrives
# is not ttrpc (or the stream lost its framing), so the connection is closed rather than drained.
_RESERVED_LENGTH = 1 << 24

REQUEST = 0x1
RESPONSE = 0x2
DATA = 0x3

# Request: the sender keeps the stream open (remote open) or has finished sending (remote closed);
# no flags is a unary request. Data: remote closed ends the sender's side; no data marks a frame
# that carries no message (as opposed to an empty one).
FLAG_REMOTE_CLOSED = 0x1
FLAG_REMOTE_OPEN = 0x2
FLAG_NO_DATA = 0x4

TYPE_NAMES = {REQUEST: "request", RESPONSE: "response", DATA: "data"}


class Frame(NamedTuple):
    stream_id: int
    type: int
    flags: int
    data: bytes


class FrameTooLarge(Exception):
    """A frame over the size limit was received and skipped; its stream can be failed."""

    def __init__(self, stream_id: int, type_: int, length: int) -> None:
        super().__init__(f"message length {length} exceeds the maximum of {MAX_MESSAGE}")
        self.stream_id = stream_id
        self.type = type_
        self.length = length


def encode(stream_id: int, type_: int, flags: int, data: bytes) -> bytes:
    return HEADER.pack(len(data), stream_id, type_, flags) + data


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame, or None at end of stream between frames.

    Raises FrameTooLarge (after skipping the frame's data, so the connection stays usable) and
    ProtocolError (garbage header, or the stream ending inside a frame).
    """
    try:
        header = await reader.readexactly(HEADER_SIZE)
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            return None
        raise ProtocolError(f"connection ended inside a frame header ({len(e.partial)} of "
                            f"{HEADER_SIZE} bytes)") from None
    length, stream_id, type_, flags = HEADER.unpack(header)
    if length >= _RESERVED_LENGTH:
        raise ProtocolError(f"not a ttrpc frame header: {header.hex()} (length {length})")
    try:
        if length > MAX_MESSAGE:
            remaining = length
            while remaining:
                chunk = await reader.readexactly(min(remaining, 1 << 16))
                remaining -= len(chunk)
            raise FrameTooLarge(stream_id, type_, length)
        data = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as e:
        raise ProtocolError(f"connection ended inside a {length}-byte frame on stream "
                            f"{stream_id} ({len(e.partial)} bytes read)") from None
    return Frame(stream_id, type_, flags, data)


async def write_frame(writer: asyncio.StreamWriter, stream_id: int, type_: int, flags: int,
                      data: bytes) -> bool:
    """Send one frame (header and data in one write, so concurrent senders never interleave).

    False when the connection is already closed or breaks while sending.
    """
    if writer.is_closing():
        return False
    writer.write(encode(stream_id, type_, flags, data))
    try:
        await writer.drain()
    except (ConnectionError, OSError):
        return False
    return True
