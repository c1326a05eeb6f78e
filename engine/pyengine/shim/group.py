"""Shims shared by a group of containers, as containerd 1.6's runc shim groups them: a container
whose config.json carries the annotation ``io.containerd.runc.v2.group`` (or CRI's
``io.kubernetes.cri.sandbox-id``) shares the shim of its group; every other container gets a
shim of its own, so a shim that dies takes only its container with it (docker's model).
``PYSHIM_GROUPING=1`` in containerd's environment puts every container of a namespace without
such an annotation in one namespace-wide group instead (fewest processes: see docs/ENGINE.md).

`start` for a grouped container first asks the group's running shim to take it, and only
starts a shim when there is none. The question is a ttrpc call, pyengine.shim.v1.Group/Reserve
(payload: the container id; answer: the shim's pid), made with a blocking socket and the
hand-encoded envelopes (`start` stays lean: no asyncio). A shim answers Unavailable once it has
decided to exit (after its last container's Shutdown, its socket already unlinked); a
reservation keeps it alive until the container's Create arrives (or RESERVATION_SECONDS pass),
so containerd never dials a shim that is leaving.
"""

from __future__ import annotations

import os
import socket
import struct

SERVICE = "pyengine.shim.v1.Group"
RESERVATION_SECONDS = 60.0
ENV_GROUPING = "PYSHIM_GROUPING"
_HEADER = struct.Struct(">IIBB")  # ttrpc's frame header (ttrpc/framing.py, which needs asyncio)
_REQUEST, _RESPONSE = 1, 2


GROUP_ANNOTATIONS = ("io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id")
NAMESPACE_GROUP = ""


def group_of(bundle: str) -> str | None:
    """The group whose shim this bundle's container shares, or None for a shim of its own."""
    try:
        with open(os.path.join(bundle, "config.json"), "rb") as f:
            raw = f.read()
    except OSError:
        raw = b""
    if any(name.encode() in raw for name in GROUP_ANNOTATIONS):  # parse only when it may say
        import json

        try:
            annotations = json.loads(raw).get("annotations") or {}
        except (ValueError, AttributeError):
            annotations = {}
        for name in GROUP_ANNOTATIONS:
            value = annotations.get(name) if isinstance(annotations, dict) else None
            if isinstance(value, str) and value:
                return value
    return NAMESPACE_GROUP if os.environ.get(ENV_GROUPING) == "1" else None


def reserve(path: str, container_id: str, timeout: float = 30) -> int | None:
    """The pid of the shim at `path` if it takes `container_id`; None if there is no shim
    there or it is leaving."""
    from .ttrpc import codec  # here: `start` of a shim of its own never pays its imports

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
