"""The HTTP/2 client side gRPC needs (RFC 9113): preface and SETTINGS, HEADERS/CONTINUATION,
DATA with flow control both ways, PING, GOAWAY, RST_STREAM, WINDOW_UPDATE.

One connection carries one call at a time (pyctl's calls are sequential), but the frame layer
keeps per-stream state so frames for other streams and the connection are handled correctly.
Reading is on demand: frames are read only while a caller waits for something (a message,
trailers, send window), so a slow consumer throttles the server through flow control.
"""

from __future__ import annotations

import struct
import time

from pyengine.cli.wire import hpack

TYPE_CHECKING = False  # no typing at run time
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS = 0, 1, 2, 3, 4
PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 5, 6, 7, 8, 9

END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

SETTINGS_HEADER_TABLE_SIZE = 1
SETTINGS_ENABLE_PUSH = 2
SETTINGS_MAX_CONCURRENT_STREAMS = 3
SETTINGS_INITIAL_WINDOW_SIZE = 4
SETTINGS_MAX_FRAME_SIZE = 5
SETTINGS_MAX_HEADER_LIST_SIZE = 6

# error codes (RFC 9113 section 7)
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 7, 8, 9, 11

DEFAULT_WINDOW = 65535
DEFAULT_MAX_FRAME = 16384
MAX_WINDOW = (1 << 31) - 1
# What we let the server send before it must wait for a WINDOW_UPDATE, per stream and for the
# connection. Consumed bytes are returned once half of it is used.
RECV_WINDOW = 1 << 24

_HEADER = struct.Struct(">I B I")  # 24-bit length packed in the first word with the type


class Transport(Protocol):
    def sendall(self, data: bytes, /) -> None: ...
    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0, /) -> int: ...
    def settimeout(self, value: float | None, /) -> None: ...
    def shutdown(self, how: int, /) -> None: ...
    def close(self) -> None: ...


class H2Error(Exception):
    """The connection failed: closed, timed out, or the peer broke the protocol."""

    def __init__(self, message: str, code: int = PROTOCOL_ERROR, timeout: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.timeout = timeout


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I B I", (len(payload) << 8) | kind, flags, stream_id) + payload


def parse_header(head: bytes) -> tuple[int, int, int, int]:
    """(length, type, flags, stream id) of a 9-byte frame header."""
    word, flags, stream_id = _HEADER.unpack(head)
    return word >> 8, word & 0xFF, flags, stream_id & 0x7FFFFFFF


def settings_payload(values: dict[int, int]) -> bytes:
    return b"".join(struct.pack(">HI", key, value) for key, value in values.items())


class Stream:
    def __init__(self, stream_id: int, send_window: int) -> None:
        self.id = stream_id
        self.send_window = send_window
        self.recv_unacked = 0
        self.headers: list[tuple[str, str]] | None = None
        self.trailers: list[tuple[str, str]] | None = None
        self.data = bytearray()
        self.remote_closed = False  # END_STREAM received, or reset
        self.local_closed = False  # END_STREAM sent, or reset
        self.reset: int | None = None  # RST_STREAM error code, received or sent
        self.refused = False  # never processed by the server (GOAWAY above it, REFUSED_STREAM)


class Connection:
    def __init__(self, sock: Transport, recv_window: int = RECV_WINDOW) -> None:
        self.sock = sock
        self.recv_window = recv_window
        self.buf = bytearray()
        self.decoder = hpack.Decoder()
        self.send_window = DEFAULT_WINDOW
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame = DEFAULT_MAX_FRAME
        self.conn_unacked = 0
        self.next_stream_id = 1
        self.streams: dict[int, Stream] = {}
        self.goaway: tuple[int, int, str] | None = None  # last stream id, error code, debug
        self.closed = False
        self._continuing: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self.deadline: float | None = None
        start = PREFACE + frame(SETTINGS, 0, 0, settings_payload({
            SETTINGS_ENABLE_PUSH: 0,
            SETTINGS_INITIAL_WINDOW_SIZE: recv_window,
        }))
        if recv_window > DEFAULT_WINDOW:
            start += frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", recv_window - DEFAULT_WINDOW))
        self._send(start)

    # -- sending --

    def _send(self, data: bytes) -> None:
        self._timeout()
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise H2Error("timed out writing to the daemon", timeout=True) from None
        except OSError as err:
            self.closed = True
            raise H2Error(f"connection to the daemon lost: {err.strerror or err}") from None

    def open_stream(self, headers: list[tuple[str, str]], end_stream: bool = False) -> Stream:
        if self.goaway is not None or self.closed:
            raise H2Error("the daemon is closing the connection", REFUSED_STREAM)
        stream = Stream(self.next_stream_id, self.peer_initial_window)
        self.next_stream_id += 2
        self.streams[stream.id] = stream
        block = hpack.encode_headers(headers)
        limit = self.peer_max_frame
        first, rest = block[:limit], block[limit:]
        flags = (END_STREAM if end_stream else 0) | (0 if rest else END_HEADERS)
        out = frame(HEADERS, flags, stream.id, first)
        while rest:
            piece, rest = rest[:limit], rest[limit:]
            out += frame(CONTINUATION, 0 if rest else END_HEADERS, stream.id, piece)
        self._send(out)
        stream.local_closed = end_stream
        return stream

    def send_data(self, stream: Stream, data: bytes, end_stream: bool = False) -> None:
        """Send `data` on `stream` within the peer's windows (reading frames, such as its
        WINDOW_UPDATEs, while they are exhausted). Stops early if the stream is closed by
        the peer (its response and status are then in the stream)."""
        view = memoryview(data)
        while True:
            if stream.remote_closed:
                return
            n = min(len(view), self.peer_max_frame, self.send_window, stream.send_window)
            if n <= 0 and view:
                self.read_frame()
                continue
            last = n == len(view)
            self._send(frame(DATA, END_STREAM if (last and end_stream) else 0, stream.id,
                             bytes(view[:n])))
            self.send_window -= n
            stream.send_window -= n
            view = view[n:]
            if last:
                stream.local_closed = end_stream
                return

    def reset(self, stream: Stream, code: int = CANCEL) -> None:
        """RST_STREAM (e.g. CANCEL when the caller gives up), unless the stream is over."""
        if stream.remote_closed and stream.local_closed:
            return
        stream.reset = code
        stream.remote_closed = stream.local_closed = True
        self.streams.pop(stream.id, None)
        if not self.closed:
            self.deadline = None  # the call may be over because its deadline passed
            try:
                self._send(frame(RST_STREAM, 0, stream.id, struct.pack(">I", code)))
            except H2Error:
                pass

    def shutdown(self) -> None:
        """End the connection under a call blocked on it in another thread (its recv returns
        at once); close() is still owed by the owner."""
        try:
            self.sock.shutdown(2)  # SHUT_RDWR
        except OSError:
            pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.settimeout(1.0)
                self.sock.sendall(frame(GOAWAY, 0, 0, struct.pack(">II", 0, NO_ERROR)))
            except OSError:
                pass
        self.sock.close()

    # -- receiving --

    def _timeout(self) -> None:
        if self.deadline is None:
            self.sock.settimeout(None)
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise H2Error("deadline exceeded", timeout=True)
        self.sock.settimeout(left)

    def _fill(self, size: int) -> None:
        while len(self.buf) < size:
            self._timeout()
            chunk = bytearray(max(65536, size - len(self.buf)))
            try:
                n = self.sock.recv_into(chunk)
            except TimeoutError:
                raise H2Error("deadline exceeded", timeout=True) from None
            except OSError as err:
                n = 0
                reason = err.strerror or str(err)
            else:
                reason = "the daemon closed the connection"
            if n == 0:
                self._lost(reason)
            self.buf += chunk[:n]

    def _lost(self, reason: str) -> None:
        self.closed = True
        for stream in self.streams.values():
            stream.remote_closed = stream.local_closed = True
        raise H2Error(f"connection to the daemon lost: {reason}", INTERNAL_ERROR)

    def has_frame(self) -> bool:
        """Is a whole frame already received (read_frame() would not block)?"""
        buf = self.buf
        return len(buf) >= 9 and len(buf) >= 9 + (int.from_bytes(buf[:3], "big"))

    def read_frame(self) -> None:
        """Read and handle one frame."""
        self._fill(9)
        length, kind, flags, stream_id = parse_header(bytes(self.buf[:9]))
        if length > DEFAULT_MAX_FRAME:  # we never raise SETTINGS_MAX_FRAME_SIZE
            raise H2Error(f"frame of {length} bytes exceeds the maximum frame size",
                          INTERNAL_ERROR)
        self._fill(9 + length)
        payload = bytes(self.buf[9:9 + length])
        del self.buf[:9 + length]
        self.handle(kind, flags, stream_id, payload)

    def handle(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if self._continuing is not None and kind != CONTINUATION:
            raise H2Error("expected a CONTINUATION frame")
        if kind == DATA:
            self._on_data(flags, stream_id, payload)
        elif kind == HEADERS:
            self._on_headers(flags, stream_id, payload)
        elif kind == CONTINUATION:
            if self._continuing is None or self._continuing[0] != stream_id:
                raise H2Error("unexpected CONTINUATION frame")
            self._continuing[2].extend(payload)
            if flags & END_HEADERS:
                sid, first_flags, block = self._continuing
                self._continuing = None
                self._headers_done(sid, first_flags, bytes(block))
        elif kind == SETTINGS:
            if not flags & ACK:
                self._on_settings(payload)
        elif kind == WINDOW_UPDATE:
            self._on_window_update(stream_id, payload)
        elif kind == PING:
            if not flags & ACK:
                self._send(frame(PING, ACK, 0, payload))
        elif kind == RST_STREAM:
            stream = self.streams.pop(stream_id, None)
            if stream is not None:
                stream.reset = struct.unpack(">I", payload[:4])[0]
                stream.refused = stream.reset == REFUSED_STREAM
                stream.remote_closed = stream.local_closed = True
        elif kind == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            last &= 0x7FFFFFFF
            self.goaway = (last, code, payload[8:].decode("utf-8", "replace"))
            for sid, stream in list(self.streams.items()):
                if sid > last:  # never processed: safe to retry on a new connection
                    stream.refused = True
                    stream.reset = REFUSED_STREAM
                    stream.remote_closed = stream.local_closed = True
                    del self.streams[sid]
        elif kind == PUSH_PROMISE:
            raise H2Error("PUSH_PROMISE although push is disabled")
        # PRIORITY and unknown frame types are ignored (RFC 9113 sections 5.5, 6.3)

    def _on_data(self, flags: int, stream_id: int, payload: bytes) -> None:
        size = len(payload)
        self.conn_unacked += size
        if self.conn_unacked >= self.recv_window // 2:
            self._send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", self.conn_unacked)))
            self.conn_unacked = 0
        if flags & PADDED:
            payload = _unpad(payload)
        stream = self.streams.get(stream_id)
        if stream is None:
            return  # a stream we reset: its window no longer matters
        stream.data += payload
        stream.recv_unacked += size
        if flags & END_STREAM:
            self._remote_end(stream)
        elif stream.recv_unacked >= self.recv_window // 2:
            self._send(frame(WINDOW_UPDATE, 0, stream.id, struct.pack(">I", stream.recv_unacked)))
            stream.recv_unacked = 0

    def _on_headers(self, flags: int, stream_id: int, payload: bytes) -> None:
        if flags & PADDED:
            payload = _unpad(payload)
        if flags & PRIORITY_FLAG:
            payload = payload[5:]
        if flags & END_HEADERS:
            self._headers_done(stream_id, flags, payload)
        else:
            self._continuing = (stream_id, flags, bytearray(payload))

    def _headers_done(self, stream_id: int, flags: int, block: bytes) -> None:
        try:
            headers = self.decoder.decode(block)  # always: it updates the dynamic table
        except hpack.HpackError as err:
            raise H2Error(f"bad header block from the daemon: {err}", COMPRESSION_ERROR) from None
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        if stream.headers is None:
            stream.headers = headers
        else:
            stream.trailers = headers
        if flags & END_STREAM:
            if stream.trailers is None:  # Trailers-Only response
                stream.trailers = headers
            self._remote_end(stream)

    def _remote_end(self, stream: Stream) -> None:
        stream.remote_closed = True
        if stream.local_closed:
            self.streams.pop(stream.id, None)

    def _on_settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload) - 5, 6):
            key, value = struct.unpack(">HI", payload[offset:offset + 6])
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise H2Error("initial window size too large", FLOW_CONTROL_ERROR)
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                for stream in self.streams.values():
                    stream.send_window += delta
            elif key == SETTINGS_MAX_FRAME_SIZE:
                self.peer_max_frame = value
        self._send(frame(SETTINGS, ACK, 0))

    def _on_window_update(self, stream_id: int, payload: bytes) -> None:
        increment = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
        if stream_id == 0:
            self.send_window += increment
            if self.send_window > MAX_WINDOW:
                raise H2Error("connection window overflow", FLOW_CONTROL_ERROR)
            return
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream.send_window += increment


def _unpad(payload: bytes) -> bytes:
    if not payload:
        raise H2Error("padded frame without a pad length")
    pad = payload[0]
    if pad >= len(payload):
        raise H2Error("padding longer than the frame")
    return payload[1:len(payload) - pad]
