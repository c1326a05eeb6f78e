"""ttrpc frames and envelopes: byte layout, limits, and the hand-written protobuf encoding
checked against the protobuf runtime itself."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from pyengine.shim.ttrpc import codec, errors, framing


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def _read_all(data: bytes) -> list[framing.Frame | Exception]:
    async def run() -> list[framing.Frame | Exception]:
        reader = _reader(data)
        out: list[framing.Frame | Exception] = []
        while True:
            try:
                frame = await framing.read_frame(reader)
            except (framing.FrameTooLarge, errors.ProtocolError) as e:
                out.append(e)
                if isinstance(e, errors.ProtocolError):
                    return out
                continue
            if frame is None:
                return out
            out.append(frame)
    return asyncio.run(run())


def test_header_is_length_stream_type_flags_big_endian() -> None:
    raw = framing.encode(5, framing.DATA, framing.FLAG_REMOTE_CLOSED, b"ab")
    assert raw == b"\x00\x00\x00\x02" b"\x00\x00\x00\x05" b"\x03" b"\x01" b"ab"
    assert framing.HEADER_SIZE == 10 and framing.MAX_MESSAGE == 4 * 1024 * 1024


def test_frames_round_trip_and_end_cleanly() -> None:
    raw = framing.encode(1, framing.REQUEST, 0, b"x" * 1000) + framing.encode(
        3, framing.RESPONSE, 0, b"")
    assert _read_all(raw) == [framing.Frame(1, framing.REQUEST, 0, b"x" * 1000),
                              framing.Frame(3, framing.RESPONSE, 0, b"")]


def test_oversized_frame_is_skipped_and_the_next_one_read() -> None:
    big = framing.MAX_MESSAGE + 1
    raw = framing.HEADER.pack(big, 7, framing.REQUEST, 0) + b"\0" * big
    raw += framing.encode(9, framing.REQUEST, 0, b"ok")
    first, second = _read_all(raw)
    assert isinstance(first, framing.FrameTooLarge) and first.stream_id == 7
    assert "exceeds the maximum of 4194304" in str(first)
    assert second == framing.Frame(9, framing.REQUEST, 0, b"ok")


def test_a_max_size_frame_is_accepted() -> None:
    raw = framing.encode(1, framing.DATA, 0, b"\1" * framing.MAX_MESSAGE)
    (frame,) = _read_all(raw)
    assert isinstance(frame, framing.Frame) and len(frame.data) == framing.MAX_MESSAGE


@pytest.mark.parametrize(("raw", "message"), [
    (b"GET / HTTP/1.1\r\n\r\n", "not a ttrpc frame header"),
    (b"\x00\x00\x00", "inside a frame header"),
    (framing.HEADER.pack(10, 1, 1, 0) + b"abc", "inside a 10-byte frame"),
])
def test_garbage_and_truncation_are_protocol_errors(raw: bytes, message: str) -> None:
    (err,) = _read_all(raw)
    assert isinstance(err, errors.ProtocolError) and message in str(err)


def _protobuf_envelopes() -> dict[str, type]:
    """ttrpc's Request/Response/KeyValue and google.rpc.Status, built by the protobuf runtime
    from descriptors, as a reference for the hand-written codec."""
    T = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="ttrpc_test_ref.proto", package="reftest",
                                              syntax="proto3")

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> None:
        msg = file.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name

    opt, rep = T.LABEL_OPTIONAL, T.LABEL_REPEATED
    message("KeyValue", ("key", 1, T.TYPE_STRING, opt, ""), ("value", 2, T.TYPE_STRING, opt, ""))
    message("Request", ("service", 1, T.TYPE_STRING, opt, ""),
            ("method", 2, T.TYPE_STRING, opt, ""), ("payload", 3, T.TYPE_BYTES, opt, ""),
            ("timeout_nano", 4, T.TYPE_INT64, opt, ""),
            ("metadata", 5, T.TYPE_MESSAGE, rep, ".reftest.KeyValue"))
    message("Any", ("type_url", 1, T.TYPE_STRING, opt, ""), ("value", 2, T.TYPE_BYTES, opt, ""))
    message("Status", ("code", 1, T.TYPE_INT32, opt, ""), ("message", 2, T.TYPE_STRING, opt, ""),
            ("details", 3, T.TYPE_MESSAGE, rep, ".reftest.Any"))
    message("Response", ("status", 1, T.TYPE_MESSAGE, opt, ".reftest.Status"),
            ("payload", 2, T.TYPE_BYTES, opt, ""))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"reftest.{name}"))
            for name in ("Request", "Response")}


REF = _protobuf_envelopes()


@pytest.mark.parametrize("timeout", [0, 1, 5_000_000_000, -1, 2**63 - 1])
def test_request_encoding_matches_protobuf(timeout: int) -> None:
    req = codec.Request("containerd.task.v2.Task", "Wait", b"\n\x02id", timeout,
                        (("a", "1"), ("a", "2"), ("Ünïcode", "")))
    ref = REF["Request"](service=req.service, method=req.method, payload=req.payload,
                         timeout_nano=timeout,
                         metadata=[{"key": k, "value": v} for k, v in req.metadata])
    assert codec.encode_request(req) == ref.SerializeToString()
    assert codec.decode_request(ref.SerializeToString()) == req


def test_response_and_status_encoding_match_protobuf() -> None:
    status = codec.Status(errors.NOT_FOUND, "container x: not found",
                          (("type.googleapis.com/x", b"\1\2"),))
    resp = codec.Response(status, b"payload")
    ref = REF["Response"](status={"code": 5, "message": status.message,
                                  "details": [{"type_url": "type.googleapis.com/x",
                                               "value": b"\1\2"}]}, payload=b"payload")
    assert codec.encode_response(resp) == ref.SerializeToString()
    assert codec.decode_response(ref.SerializeToString()) == resp
    negative = REF["Response"](status={"code": -3})
    assert codec.decode_response(negative.SerializeToString()).status.code == -3
    assert codec.decode_response(b"") == codec.Response()


def test_unknown_fields_are_skipped() -> None:
    extra = b"\x30\x07" + b"\x39" + b"\0" * 8 + b"\x45" + b"\0" * 4 + b"\x52\x01z"
    assert codec.decode_request(codec.encode_request(codec.Request("s", "m")) + extra) == \
        codec.Request("s", "m")


@pytest.mark.parametrize("raw", [
    b"\x0a\x05ab",  # length beyond the message
    b"\x0a",  # truncated length
    b"\x0b",  # wire type 3 (groups): unsupported
    b"\x08\x01",  # service as a varint
    b"\x0a\x02\xff\xfe",  # service not UTF-8
    b"\x80" * 11,  # endless varint
    b"\x00\x01",  # field number 0
])
def test_malformed_envelopes_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(errors.ProtocolError):
        codec.decode_request(raw)


def test_status_codes_map_to_exception_classes() -> None:
    err = errors.from_status(errors.FAILED_PRECONDITION, "task is not running")
    assert type(err) is errors.FailedPrecondition
    assert str(err) == "FailedPrecondition: task is not running"
    for code, cls in errors.BY_CODE.items():
        assert cls.code == code and isinstance(errors.from_status(code, ""), errors.RpcError)
    assert {errors.NotFound.code, errors.AlreadyExists.code, errors.Unimplemented.code} == {
        5, 6, 12}
    odd = errors.from_status(99, "what")
    assert type(odd) is errors.Unknown and "99" in str(odd)
