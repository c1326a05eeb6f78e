"""Shims shared by the containers of one namespace (the grouping containerd 1.6 supports and
its CRI plugin uses for pods): `start` for a new container first asks the namespace's running
shim to take it, and only starts a shim when there is none. Each container then costs the
shim a few Python objects instead of a process.

The question is a ttrpc call, pyengine.shim.v1.Group/Reserve (payload: the container id; answer:
the shim's pid), made with a blocking socket and the hand-encoded envelopes (`start` stays lean:
no asyncio). A shim answers Unavailable once it has decided to exit (after its last container's
Shutdown, its socket already unlinked); a reservation keeps it alive until the container's
Create arrives (or RESERVATION_SECONDS pass), so containerd never dials a shim that is leaving.
Set PYSHIM_GROUPING=0 in containerd's environment for one shim per container.
"""

from __future__ import annotations

import os
import socket
import struct

from .ttrpc import codec

SERVICE = "pyengine.shim.v1.Group"
RESERVATION_SECONDS = 60.0
ENV_GROUPING = "PYSHIM_GROUPING"
_HEADER = struct.Struct(">IIBB")  # ttrpc's frame header (ttrpc/framing.py, which needs asyncio)
_REQUEST, _RESPONSE = 1, 2


def enabled() -> bool:
    return os.environ.get(ENV_GROUPING, "1") != "0"


def reserve(path: str, container_id: str, timeout: float = 30) -> int | None:
    """The pid of the shim at `path` if it takes `container_id`; None if there is no shim
    there or it is leaving."""
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        with conn:
            conn.connect(path)
            data = codec.encode_request(codec.Request(SERVICE, "Reserve",
                                                      container_id.encode()))
            conn.sendall(_HEADER.pack(len(data), 1, _REQUEST, 0) + data)
            head = _recv_exact(conn, _HEADER.size)
            length, stream_id, kind, _ = _HEADER.unpack(head)
            body = _recv_exact(conn, length)
    except (OSError, EOFError):
        return None
    if stream_id != 1 or kind != _RESPONSE:
        return None
    response = codec.decode_response(body)
    if response.status.code != 0:
        return None
    try:
        return int(response.payload.decode())
    except ValueError:
        return None


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf
