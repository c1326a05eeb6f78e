"""The hijacked connection of attach and exec start: after the response head, raw bytes both
ways on the HTTP connection itself.

docker's clients ask with `Connection: Upgrade` + `Upgrade: tcp` and get
`HTTP/1.1 101 UPGRADED` (Content-Type application/vnd.docker.raw-stream, Connection: Upgrade,
Upgrade: tcp); a client that does not ask gets `200 OK` with the same content type and the raw
stream as a body without framing, to the connection's close (dockerd answers both forms so).
Then the client's bytes are the process' stdin and the process' output goes back; the client's
half-close (shutdown(SHUT_WR), docker's CloseWrite) ends the input only: the output keeps
flowing until the process ends, then the daemon closes the connection.

How, with aiohttp (facts from its web_protocol.py and web_ws.py, 3.14): its WebSocketResponse
prepares a 101 response and then `protocol.set_parser(reader)` so the request handler's
`data_received` feeds the raw bytes to that reader. That route cannot serve a half-close: the
handler's `eof_received` returns None, so asyncio closes the transport as soon as the client
shuts its writing side down, and the output still to come would be lost; its C parser also
only switches to "upgraded" for `Upgrade: websocket` (the pure-Python one for tcp too). So this
module takes the connection over instead: once the request's body is read, the transport's
protocol is replaced (`transport.set_protocol`, asyncio's public API) by `RawConnection`, which
gets the client's bytes and its EOF (answering True: the transport stays open for writing),
does the write flow control (pause_writing/resume_writing) and, when the connection is lost,
passes that on to aiohttp's handler protocol so its bookkeeping (the server's connection list,
cancelling the handler with `handler_cancellation`) stays right. The response head is written
on the transport in docker's exact bytes; the handler returns `Hijacked`, a StreamResponse
whose prepare and write_eof do nothing (the head is already out), so aiohttp writes nothing
more and, the response not being keep-alive, closes the connection when the handler returns
(after the buffered output is flushed). The app's on_response_prepare signal is sent when the
head goes out, so the server treats the session like any other stream (stopping cancels it).
docker's clients send nothing before they have read the response head, so no byte of the
stream is left in aiohttp's parser.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from aiohttp import web

RAW_STREAM = "application/vnd.docker.raw-stream"
READ_HIGH_WATER = 1 << 20  # client bytes queued before reading from it pauses


class Hijacked(web.StreamResponse):
    """What a hijacking handler returns: its head was written on the connection already."""

    async def prepare(self, request: web.BaseRequest) -> None:  # the head is out already
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class RawConnection(asyncio.Protocol):
    """The connection once taken over: `read()` the client's bytes (b"" at its EOF),
    `write()` output with flow control; `lost` is set when the client is gone."""

    def __init__(self, transport: asyncio.Transport, previous: asyncio.BaseProtocol) -> None:
        self.transport = transport
        self.previous = previous
        self._chunks: deque[bytes] = deque()
        self._queued = 0
        self._eof = False
        self._reading_paused = False
        self._ready: asyncio.Future[None] | None = None
        self._can_write: asyncio.Event = asyncio.Event()
        self._can_write.set()
        self.lost = asyncio.Event()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._queued += len(data)
        if self._queued > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return True  # a half-close: the output still goes to the client

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self.lost.set()
        self._can_write.set()
        self._wake()
        self.previous.connection_lost(exc)

    def _wake(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    # -- the session's side -----------------------------------------------------------------

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._ready
            finally:
                self._ready = None
        data = self._chunks.popleft()
        self._queued -= len(data)
        if self._reading_paused and self._queued <= READ_HIGH_WATER // 2:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def chunks(self) -> AsyncIterator[bytes]:
        while data := await self.read():
            yield data

    async def write(self, data: bytes) -> bool:
        """False once the client is gone."""
        if self.lost.is_set() or self.transport.is_closing():
            return False
        self.transport.write(data)
        await self._can_write.wait()
        return not self.lost.is_set()


def wants_upgrade(request: web.Request) -> bool:
    tokens = {t.strip().lower() for t in request.headers.get("Connection", "").split(",")}
    return "upgrade" in tokens and request.headers.get("Upgrade", "").lower() == "tcp"


async def hijack(request: web.Request, content_type: str = RAW_STREAM
                 ) -> tuple[RawConnection, Hijacked]:
    """Answer the head (101 or 200) and take the connection over. Read the request's body
    before: what follows it on the connection is the stream."""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client went away before the stream started")
    # no isinstance(transport, asyncio.Transport): uvloop's transports are not subclasses
    conn = RawConnection(transport, transport.get_protocol())
    transport.set_protocol(conn)
    if wants_upgrade(request):
        head = (f"HTTP/1.1 101 UPGRADED\r\nContent-Type: {content_type}\r\n"
                "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        response = Hijacked(status=101, reason="UPGRADED")
    else:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n"
        response = Hijacked(status=200)
    response.content_type = content_type
    transport.write(head.encode())
    await request.app.on_response_prepare.send(request, response)
    return conn, response
