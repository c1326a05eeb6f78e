"""A raw client of the Docker Engine API's streams: a request on a unix socket, the response
head, then the hijacked connection's bytes (docker's stdcopy frames split here)."""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


@dataclass
class Stream:
    sock: socket.socket
    status: int
    headers: dict[str, str]
    head: bytes
    rest: bytearray = field(default_factory=bytearray)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def recv(self) -> bytes:
        """The next bytes (b"" once the daemon closed the connection)."""
        if self.rest:
            data, self.rest = bytes(self.rest), bytearray()
            return data
        return self.sock.recv(65536)

    def read_all(self) -> bytes:
        out = bytearray()
        while data := self.recv():
            out += data
        return bytes(out)

    def read_until(self, needle: bytes) -> bytes:
        """Bytes until `needle` was seen (raw: a terminal's stream)."""
        out = bytearray()
        while needle not in out:
            data = self.recv()
            if not data:
                raise AssertionError(f"the stream ended before {needle!r}: {bytes(out)!r}")
            out += data
        return bytes(out)

    def close(self) -> None:
        self.sock.close()


def open_stream(path: Path, method: str, target: str, body: dict | None = None,
                upgrade: bool = True, timeout: float = 120.0) -> Stream:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    data = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost",
             f"Content-Length: {len(data)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    if upgrade:
        lines += ["Connection: Upgrade", "Upgrade: tcp"]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"no response head: {bytes(buf)!r}")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Stream(sock, int(status_line.split()[1]), headers, head, bytearray(rest))


def demux(data: bytes) -> list[tuple[str, bytes]]:
    """docker's multiplexed frames -> (stream, payload); the data must be whole frames."""
    out = []
    at = 0
    while at < len(data):
        kind, size = struct.unpack(">BxxxI", data[at:at + 8])
        out.append((STREAMS[kind], data[at + 8:at + 8 + size]))
        at += 8 + size
    assert at == len(data), f"a cut frame at {at}: {data!r}"
    return out


def joined(frames: list[tuple[str, bytes]], stream: str) -> bytes:
    return b"".join(d for s, d in frames if s == stream)
