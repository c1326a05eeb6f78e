"""pyctl's gRPC transport (pyengine.cli.wire) without a daemon: HPACK against RFC 7541's
examples (Appendix C), the Huffman code against Appendix B, and the HTTP/2 + gRPC layers
against a scripted peer on a socketpair (framing, flow control both ways, error trailers,
GOAWAY, RST_STREAM, deadlines)."""

from __future__ import annotations

import socket
import struct
import threading

import pytest
from pyengine.api import system_pb2
from pyengine.cli.wire import h2, hpack, huffman, status
from pyengine.cli.wire.channel import Call, Channel, encode_timeout

# -- Huffman (RFC 7541 Appendix B) --

# (symbol, code as hex aligned to LSB, length): a sample of Appendix B's rows, spread over
# every code length, so that one wrong length anywhere shifts a checked code.
APPENDIX_B = [
    (0, 0x1ff8, 13), (1, 0x7fffd8, 23), (9, 0xffffea, 24), (10, 0x3ffffffc, 30),
    (22, 0x3ffffffe, 30), (31, 0xffffffb, 28), (32, 0x14, 6), (35, 0xffa, 12),
    (39, 0x7fa, 11), (47, 0x18, 6), (48, 0x0, 5), (60, 0x7ffc, 15), (92, 0x7fff0, 19),
    (94, 0x3ffc, 14), (116, 0x9, 5), (122, 0x7b, 7), (126, 0x1ffd, 13), (127, 0xffffffc, 28),
    (128, 0xfffe6, 20), (153, 0x1fffdc, 21), (176, 0x1fffe0, 21), (191, 0x7ffff1, 23),
    (192, 0x3ffffe0, 26), (199, 0x1ffffec, 25), (203, 0x7ffffde, 27), (220, 0xffffffd, 28),
    (228, 0x3fffe9, 22), (236, 0xfffff4, 24), (249, 0xffffffe, 28), (254, 0x7fffff0, 27),
    (255, 0x3ffffee, 26), (256, 0x3fffffff, 30),
]


def test_huffman_code_is_appendix_b() -> None:
    codes = huffman.codes()
    assert len(codes) == 257
    assert sum(2.0 ** -length for _, length in codes) == 1.0  # a complete prefix code
    for symbol, code, length in APPENDIX_B:
        assert codes[symbol] == (code, length), symbol


def test_huffman_round_trip_and_rfc_strings() -> None:
    every = bytes(range(256)) * 2
    assert huffman.decode(huffman.encode(every)) == every
    assert huffman.encode(b"www.example.com").hex() == "f1e3c2e5f23a6ba0ab90f4ff"  # C.4.1
    assert huffman.decode(bytes.fromhex("a8eb10649cbf")) == b"no-cache"  # C.4.2
    assert huffman.decode(b"") == b""


@pytest.mark.parametrize("data", [
    bytes([0x00]),  # '0' (5 bits) then 3 zero bits of padding: padding must be ones
    b"\xff\xff\xff\xff",  # EOS (30 ones) inside the string
    b"\x1f\xff",  # 'a' then 11 one bits: padding longer than 7 bits
])
def test_huffman_rejects_bad_strings(data: bytes) -> None:
    with pytest.raises(huffman.HuffmanError):
        huffman.decode(data)


# -- HPACK (RFC 7541 Appendix C) --

def test_integers_c1() -> None:
    assert hpack.encode_int(10, 5) == b"\x0a"
    assert hpack.encode_int(1337, 5) == bytes([0x1f, 0x9a, 0x0a])
    assert hpack.encode_int(42, 8) == b"\x2a"
    assert hpack.decode_int(bytes([0xea]), 0, 5) == (10, 1)  # flag bits above the prefix
    assert hpack.decode_int(bytes([0x1f, 0x9a, 0x0a]), 0, 5) == (1337, 3)
    with pytest.raises(hpack.HpackError):
        hpack.decode_int(bytes([0x1f, 0x9a]), 0, 5)  # truncated


def test_field_representations_c2() -> None:
    d = hpack.Decoder()
    assert d.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")) \
        == [("custom-key", "custom-header")]
    assert d.size == 55 and d.table == [("custom-key", "custom-header")]
    d = hpack.Decoder()
    assert d.decode(bytes.fromhex("040c2f73616d706c652f70617468")) == [(":path", "/sample/path")]
    assert d.decode(bytes.fromhex("100870617373776f726406736563726574")) \
        == [("password", "secret")]
    assert d.decode(b"\x82") == [(":method", "GET")]
    assert d.table == []


REQ = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]


@pytest.mark.parametrize("blocks", [
    ["828684410f7777772e6578616d706c652e636f6d",  # C.3, literals
     "828684be58086e6f2d6361636865",
     "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"],
    ["828684418cf1e3c2e5f23a6ba0ab90f4ff",  # C.4, Huffman
     "828684be5886a8eb10649cbf",
     "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"],
])
def test_requests_c3_c4(blocks: list[str]) -> None:
    d = hpack.Decoder()
    assert d.decode(bytes.fromhex(blocks[0])) == REQ
    assert d.size == 57
    assert d.decode(bytes.fromhex(blocks[1])) == [*REQ, ("cache-control", "no-cache")]
    assert d.size == 110
    assert d.decode(bytes.fromhex(blocks[2])) == [
        (":method", "GET"), (":scheme", "https"), (":path", "/index.html"),
        (":authority", "www.example.com"), ("custom-key", "custom-value")]
    assert d.size == 164
    assert [name for name, _ in d.table] == ["custom-key", "cache-control", ":authority"]


def test_responses_with_eviction_c6() -> None:
    d = hpack.Decoder(max_size=256)
    date1, date2 = "Mon, 21 Oct 2013 20:13:21 GMT", "Mon, 21 Oct 2013 20:13:22 GMT"
    first = d.decode(bytes.fromhex(
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad"
        "171863c78f0b97c8e9ae82ae43d3"))
    assert first == [(":status", "302"), ("cache-control", "private"), ("date", date1),
                     ("location", "https://www.example.com")]
    assert d.size == 222
    second = d.decode(bytes.fromhex("4883640effc1c0bf"))
    assert second == [(":status", "307"), *first[1:]]
    assert d.size == 222 and d.table[0] == (":status", "307")
    third = d.decode(bytes.fromhex(
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7"
        "b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"))
    assert third == [(":status", "200"), ("cache-control", "private"), ("date", date2),
                     ("location", "https://www.example.com"), ("content-encoding", "gzip"),
                     ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")]
    assert d.size == 215
    assert [name for name, _ in d.table] == ["set-cookie", "content-encoding", "date"]


def test_table_size_update_and_bad_index() -> None:
    d = hpack.Decoder()
    d.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))
    assert d.decode(b"\x20") == [] and d.table == []  # size update to 0 evicts everything
    with pytest.raises(hpack.HpackError):
        d.decode(b"\x3f\xe2\x1f")  # 4096 + 1 > the limit we announced
    with pytest.raises(hpack.HpackError):
        d.decode(b"\xbe")  # index 62: dynamic table is empty
    with pytest.raises(hpack.HpackError):
        d.decode(b"\x82\x20")  # size update after a field


def test_encoder_output_decodes() -> None:
    fields = [(":path", "/pyengine.v1.SystemService/Version"), ("grpc-timeout", "5m"),
              ("x-long", "v" * 300)]
    assert hpack.Decoder().decode(hpack.encode_headers(fields)) == fields


# -- HTTP/2 and gRPC against a scripted peer --

class Peer:
    """The server end of a socketpair: reads the client's frames, writes scripted ones."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.greeted = False

    def _read(self, size: int) -> bytes:
        while len(self.buf) < size:
            chunk = self.sock.recv(65536)
            assert chunk, "client closed"
            self.buf += chunk
        out, self.buf = self.buf[:size], self.buf[size:]
        return out

    def preface(self) -> None:
        assert self._read(len(h2.PREFACE)) == h2.PREFACE
        self.greeted = True

    def frame(self) -> tuple[int, int, int, bytes]:
        if not self.greeted:
            self.preface()
        length, kind, flags, sid = h2.parse_header(self._read(9))
        return kind, flags, sid, self._read(length)

    def frames_until(self, kind: int) -> list[tuple[int, int, int, bytes]]:
        out = []
        while True:
            got = self.frame()
            out.append(got)
            if got[0] == kind:
                return out

    def send(self, kind: int, flags: int, sid: int, payload: bytes = b"") -> None:
        self.sock.sendall(h2.frame(kind, flags, sid, payload))

    def headers(self, sid: int, fields: list[tuple[str, str]], end: bool = False) -> None:
        # Huffman-coded, indexed into the dynamic table: what grpc's C core sends
        block = b"".join(b"\x40" + _huff(n) + _huff(v) for n, v in fields)
        self.send(h2.HEADERS, h2.END_HEADERS | (h2.END_STREAM if end else 0), sid, block)

    def message(self, sid: int, payload: bytes, end: bool = False) -> None:
        self.send(h2.DATA, h2.END_STREAM if end else 0, sid,
                  struct.pack(">BI", 0, len(payload)) + payload)


def _huff(text: str) -> bytes:
    coded = huffman.encode(text.encode())
    return hpack.encode_int(len(coded), 7, 0x80) + coded


@pytest.fixture
def pair():
    client, server = socket.socketpair()
    server.settimeout(60)  # a frame the client never sends fails the test instead of hanging
    try:
        yield client, Peer(server)
    finally:
        client.close()
        server.close()


def _channel(sock: socket.socket, recv_window: int = h2.RECV_WINDOW) -> Channel:
    channel = Channel("unix:///unused")
    channel.conn = h2.Connection(sock, recv_window=recv_window)
    return channel


OK_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]


def test_unary_call_with_settings_ping_and_trailers(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    peer.preface()
    kind, flags, _, payload = peer.frame()
    assert kind == h2.SETTINGS and not flags & h2.ACK
    assert struct.pack(">HI", h2.SETTINGS_ENABLE_PUSH, 0) in payload
    peer.send(h2.SETTINGS, 0, 0, struct.pack(">HI", h2.SETTINGS_MAX_FRAME_SIZE, 32768))
    peer.send(h2.PING, 0, 0, b"12345678")
    peer.headers(1, OK_HEADERS)
    peer.message(1, system_pb2.VersionResponse(version="9.9").SerializeToString())
    peer.headers(1, [("grpc-status", "0")], end=True)
    reply = channel.unary_unary("/pyengine.v1.SystemService/Version",
                                system_pb2.VersionRequest(), system_pb2.VersionResponse,
                                timeout=30, metadata=[("X-Trace", "t1")])
    assert reply.version == "9.9"
    sent = peer.frames_until(h2.PING)
    kinds = [(k, f) for k, f, _, _ in sent]
    assert (h2.SETTINGS, h2.ACK) in kinds and sent[-1] == (h2.PING, h2.ACK, 0, b"12345678")
    request = next(f for f in sent if f[0] == h2.HEADERS)
    fields = dict(hpack.Decoder().decode(request[3]))
    assert fields[":path"] == "/pyengine.v1.SystemService/Version"
    assert fields["content-type"] == "application/grpc" and fields["te"] == "trailers"
    assert fields["x-trace"] == "t1" and fields["grpc-timeout"].endswith("u")
    assert channel.conn is not None and channel.conn.peer_max_frame == 32768


@pytest.mark.parametrize(("trailers", "code", "details"), [
    ([(":status", "200"), ("grpc-status", "5"), ("grpc-message", "No%20such%20image: x%C3%A9")],
     status.NOT_FOUND, "No such image: xé"),
    ([(":status", "200"), ("grpc-status", "3"), ("grpc-message", "bad %zz")],
     status.INVALID_ARGUMENT, "bad %zz"),
    ([(":status", "503")], status.UNAVAILABLE, "HTTP status 503 from the daemon"),
    ([(":status", "200")], status.INTERNAL, "the daemon ended the call without a status"),
])
def test_error_trailers_only(pair, trailers, code, details) -> None:
    sock, peer = pair
    channel = _channel(sock)
    peer.headers(1, trailers, end=True)  # Trailers-Only
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    assert (err.value.code(), err.value.details()) == (code, details)


def test_reset_and_goaway(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    peer.send(h2.RST_STREAM, 0, 1, struct.pack(">I", h2.CANCEL))
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    assert err.value.code() == status.CANCELLED
    peer.send(h2.GOAWAY, 0, 0, struct.pack(">II", 1, h2.NO_ERROR) + b"bye")
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    assert err.value.code() == status.UNAVAILABLE  # stream 3 > last stream 1: refused


def test_receive_flow_control_returns_what_was_consumed(pair) -> None:
    sock, peer = pair
    channel = _channel(sock, recv_window=65535)
    chunk = system_pb2.VersionResponse(version="x" * 16000).SerializeToString()

    def serve() -> None:  # in a thread: 96 KB do not fit in the socketpair's buffer
        peer.headers(1, OK_HEADERS)
        for _ in range(6):  # past one 64 KiB window, so the client must return credit
            peer.message(1, chunk)
        peer.headers(1, [("grpc-status", "0")], end=True)

    writer = threading.Thread(target=serve)
    writer.start()
    stream = channel.unary_stream("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    got = list(stream)
    writer.join()
    assert [len(m.version) for m in got] == [16000] * 6
    updates = [f for f in peer.frames_until(h2.DATA) if f[0] == h2.WINDOW_UPDATE]
    while len([u for u in updates if u[2] == 0]) < 2:  # connection and stream credit
        got_frame = peer.frame()
        if got_frame[0] == h2.WINDOW_UPDATE:
            updates.append(got_frame)
    conn_credit = sum(struct.unpack(">I", p)[0] for _, _, sid, p in updates if sid == 0)
    stream_credit = sum(struct.unpack(">I", p)[0] for _, _, sid, p in updates if sid == 1)
    assert conn_credit >= 65535 // 2 and stream_credit >= 65535 // 2


def test_send_flow_control_waits_for_window_updates(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    # the server's stream window is 10 bytes; the client must wait for credit between frames
    peer.send(h2.SETTINGS, 0, 0, struct.pack(">HI", h2.SETTINGS_INITIAL_WINDOW_SIZE, 10))
    assert channel.conn is not None
    channel.conn.read_frame()
    call = Call(channel, "/s/M", None, ())
    for _ in range(4):  # read by the client only once its window is used up
        peer.send(h2.WINDOW_UPDATE, 0, 1, struct.pack(">I", 10))
    call.send(b"y" * 40, end=True)  # 45 bytes on the wire: 10 + 10 + 10 + 10 + 5
    data = [f for f in peer.frames_until(h2.DATA) if f[0] == h2.DATA]
    while not data[-1][1] & h2.END_STREAM:
        got = peer.frame()
        if got[0] == h2.DATA:
            data.append(got)
    assert [len(p) for _, _, _, p in data] == [10, 10, 10, 10, 5]
    assert b"".join(p for _, _, _, p in data) == struct.pack(">BI", 0, 40) + b"y" * 40


def test_deadline_cancels_the_stream(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    peer.headers(1, OK_HEADERS)  # then nothing: the call must give up at its deadline
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse,
                            timeout=0.2)
    assert err.value.code() == status.DEADLINE_EXCEEDED
    reset = peer.frames_until(h2.RST_STREAM)[-1]
    assert reset[2] == 1 and struct.unpack(">I", reset[3])[0] == h2.CANCEL


def test_deadline_already_past(pair) -> None:
    sock, _ = pair
    channel = _channel(sock)
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse,
                            timeout=0)
    assert err.value.code() == status.DEADLINE_EXCEEDED


def test_closing_a_stream_early_sends_cancel(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    peer.headers(1, OK_HEADERS)
    peer.message(1, system_pb2.VersionResponse(version="1").SerializeToString())
    stream = channel.unary_stream("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    assert next(stream).version == "1"
    stream.close()  # what Ctrl-C (KeyboardInterrupt inside the loop) does too
    reset = peer.frames_until(h2.RST_STREAM)[-1]
    assert reset[2] == 1 and struct.unpack(">I", reset[3])[0] == h2.CANCEL


def test_continuation_and_padding(pair) -> None:
    sock, peer = pair
    channel = _channel(sock)
    block = hpack.encode_headers([*OK_HEADERS, ("x-big", "b" * 100)])
    peer.send(h2.HEADERS, h2.PADDED, 1, bytes([3]) + block[:20] + b"\0\0\0")
    peer.send(h2.CONTINUATION, h2.END_HEADERS, 1, block[20:])
    payload = system_pb2.VersionResponse(version="2").SerializeToString()
    peer.send(h2.DATA, h2.PADDED, 1, bytes([2]) + struct.pack(">BI", 0, len(payload)) + payload
              + b"\0\0")
    peer.headers(1, [("grpc-status", "0")], end=True)
    assert channel.unary_unary("/s/M", system_pb2.VersionRequest(),
                               system_pb2.VersionResponse).version == "2"


def test_grpc_timeout_encoding() -> None:
    assert encode_timeout(0.2) == "200000u"
    assert encode_timeout(600) == "600000m"
    assert encode_timeout(10 ** 9) == "16666667M"


def test_connect_failure_is_typed(tmp_path) -> None:
    channel = Channel(f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(status.RpcError) as err:
        channel.unary_unary("/s/M", system_pb2.VersionRequest(), system_pb2.VersionResponse)
    assert err.value.code() == status.UNAVAILABLE and err.value.connect_failed


def test_bidi_call_beside_a_unary_call_on_one_connection(pair) -> None:
    """A bidirectional call driven as pyctl's attach drives it: messages taken without
    blocking, a unary call on the same connection meanwhile (the bidi stream's frames that
    arrive during it are kept), half-close, trailers."""
    import select

    sock, peer = pair
    channel = _channel(sock)
    call = channel.stream_stream("/s/Bidi", system_pb2.VersionResponse(version="first"),
                                 system_pb2.VersionResponse)
    headers = peer.frames_until(h2.HEADERS)[-1]
    assert dict(hpack.Decoder().decode(headers[3]))[":path"] == "/s/Bidi"
    data = peer.frames_until(h2.DATA)[-1]
    assert data[2] == 1 and not data[1] & h2.END_STREAM
    assert system_pb2.VersionResponse.FromString(data[3][5:]).version == "first"
    assert call.take() == [] and not call.ended()
    peer.headers(1, OK_HEADERS)
    peer.message(1, system_pb2.VersionResponse(version="a").SerializeToString())
    peer.message(1, system_pb2.VersionResponse(version="b").SerializeToString())
    call.initial_metadata()
    while select.select([call], [], [], 0)[0] or call.pending():
        call.read()
    assert [m.version for m in call.take()] == ["a", "b"]
    # a unary call (stream 3) while the bidi stream gets a message too
    peer.message(1, system_pb2.VersionResponse(version="c").SerializeToString())
    peer.headers(3, OK_HEADERS)
    peer.message(3, system_pb2.VersionResponse(version="unary").SerializeToString())
    peer.headers(3, [("grpc-status", "0")], end=True)
    reply = channel.unary_unary("/s/Unary", system_pb2.VersionRequest(),
                                system_pb2.VersionResponse)
    assert reply.version == "unary"
    assert [m.version for m in call.take()] == ["c"]  # kept, taken without reading
    call.send(system_pb2.VersionResponse(version="stdin"))
    call.done_writing()
    sent = peer.frames_until(h2.DATA)
    while not sent[-1][1] & h2.END_STREAM or sent[-1][2] != 1:
        sent += peer.frames_until(h2.DATA)
    bidi = [f for f in sent if f[0] == h2.DATA and f[2] == 1]
    assert system_pb2.VersionResponse.FromString(bidi[0][3][5:]).version == "stdin"
    peer.headers(1, [("grpc-status", "5"), ("grpc-message", "gone")], end=True)
    while not call.ended():
        call.read()
    with pytest.raises(status.RpcError) as err:
        call.status()
    assert err.value.code() == status.NOT_FOUND and err.value.details() == "gone"
