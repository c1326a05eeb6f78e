"""A stand-in for GET /containers/{id}/json until the containers endpoints are merged: a unix
socket in front of the daemon's that answers container inspect from `pyctl inspect` (docker's
document, the gRPC edge's container_json) and passes every other request through to the daemon
byte for byte (the hijacked streams too, half-closes included), one request per connection.

The docker CLI inspects a container before `exec`, `logs` and `attach`; the streams under test
are the daemon's own."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path

INSPECT = re.compile(rb"^GET (?:/v[0-9.]+)?/containers/([^/?\s]+)/json(?:\?\S*)? HTTP/1\.1\r\n")


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy until src's EOF, then half-close dst (the peer's CloseWrite, passed on)."""
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class InspectStandIn:
    def __init__(self, path: Path, daemon: Path, inspect: Callable[[str], bytes | None]) -> None:
        self.path = path
        self.daemon = daemon
        self.inspect = inspect
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=30)
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head, rest = _read_head(client)
            if not head:
                return
            match = INSPECT.match(head)
            if match:
                body = self.inspect(match.group(1).decode())
                status = b"200 OK" if body is not None else b"404 Not Found"
                if body is None:
                    body = json.dumps({"message": "No such container: "
                                       + match.group(1).decode()}).encode()
                client.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json"
                               b"\r\nConnection: close\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\n\r\n" + body)
                return
            if b"\r\nupgrade:" not in head.lower():  # one request per connection
                lines = [line for line in head[:-4].split(b"\r\n")
                         if not line.lower().startswith(b"connection:")]
                head = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as daemon:
                daemon.connect(str(self.daemon))
                daemon.sendall(head + rest)
                up = threading.Thread(target=_pipe, args=(client, daemon), daemon=True)
                up.start()
                _pipe(daemon, client)
                with contextlib.suppress(OSError):  # the daemon is done: so is the client
                    client.shutdown(socket.SHUT_RDWR)
                up.join(timeout=60)
