"""docker's multiplexed stream framing (its stdcopy): each chunk of a container's output goes as
an 8-byte header [stream, 0, 0, 0, size as big-endian uint32] and the payload; stream is 0
stdin, 1 stdout, 2 stderr. A container or exec with a terminal sends raw bytes instead (a
terminal has one stream)."""

from __future__ import annotations

import struct

STREAM_IDS = {"stdin": 0, "stdout": 1, "stderr": 2}
MAX_FRAME = (1 << 32) - 1
_HEADER = struct.Struct(">BxxxI")


def frame(stream: str, data: bytes) -> bytes:
    """One chunk in docker's framing (chunks beyond 4 GiB become several frames)."""
    kind = STREAM_IDS[stream]
    if len(data) <= MAX_FRAME:
        return _HEADER.pack(kind, len(data)) + data
    return b"".join(_HEADER.pack(kind, len(data[at:at + MAX_FRAME])) + data[at:at + MAX_FRAME]
                    for at in range(0, len(data), MAX_FRAME))


def encode(stream: str, data: bytes, tty: bool) -> bytes:
    """What goes on the wire for a chunk: raw with a terminal, else framed."""
    return data if tty else frame(stream, data)
