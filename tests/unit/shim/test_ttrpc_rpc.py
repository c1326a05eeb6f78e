"""Our ttrpc client against our ttrpc server: unary calls, status errors, deadlines,
concurrency, cancellation, limits, bad peers, shutdown. No test asserts on time: waits are for
events, bounded by generous deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pyengine.shim.api import shim_pb2, task_pb2
from pyengine.shim.ttrpc import codec, errors, framing
from pyengine.shim.ttrpc.client import Client
from pyengine.shim.ttrpc.server import Context, Server, UnaryMethod, unary

SVC = "test.v1.Things"
LONG = 60  # seconds: a bound for things that happen, never a measured duration


class Harness:
    """A server with a few handlers and a log, plus hooks the tests release."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.logged: list[str] = []
        self.server = Server(log=self.logged.append)
        self.release = asyncio.Event()
        self.entered = 0
        self.entered_changed = asyncio.Event()
        self.cancelled = asyncio.Event()

        async def echo(ctx: Context, payload: bytes) -> bytes:
            return payload

        async def block(ctx: Context, payload: bytes) -> bytes:
            self.entered += 1
            self.entered_changed.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return payload

        async def fail(ctx: Context, payload: bytes) -> bytes:
            raise errors.NotFound(f"thing {payload.decode()}: not found",
                                  (("type.example/Detail", b"\1"),))

        async def crash(ctx: Context, payload: bytes) -> bytes:
            raise ValueError("bad things")

        async def meta(ctx: Context, payload: bytes) -> bytes:
            return ",".join(ctx.get("x-who")).encode()

        async def big(ctx: Context, payload: bytes) -> bytes:
            return b"\0" * (framing.MAX_MESSAGE + 1)

        async def state(ctx: Context, req: shim_pb2.StateRequest) -> shim_pb2.StateResponse:
            return shim_pb2.StateResponse(id=req.id, exec_id=req.exec_id,
                                          status=task_pb2.RUNNING, pid=42)

        self.server.register(SVC, {
            "Echo": UnaryMethod(echo), "Block": UnaryMethod(block), "Fail": UnaryMethod(fail),
            "Crash": UnaryMethod(crash), "Meta": UnaryMethod(meta), "Big": UnaryMethod(big),
        })
        self.server.register("containerd.task.v2.Task",
                             {"State": unary(shim_pb2.StateRequest, state)})

    async def wait_entered(self, n: int) -> None:
        async with asyncio.timeout(LONG):
            while self.entered < n:
                self.entered_changed.clear()
                await self.entered_changed.wait()


def run(path: str, scenario: Callable[[Harness], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        h = Harness(path)
        await h.server.listen(path)
        try:
            return await scenario(h)
        finally:
            await h.server.close()
    return asyncio.run(main())


async def raw_connection(path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_unix_connection(path)


async def raw_request(writer: asyncio.StreamWriter, sid: int, method: str, payload: bytes = b"",
                      timeout_nano: int = 0) -> None:
    data = codec.encode_request(codec.Request(SVC, method, payload, timeout_nano))
    writer.write(framing.encode(sid, framing.REQUEST, 0, data))
    await writer.drain()


async def raw_response(reader: asyncio.StreamReader) -> tuple[int, codec.Response]:
    async with asyncio.timeout(LONG):
        frame = await framing.read_frame(reader)
    assert frame is not None and frame.type == framing.RESPONSE
    return frame.stream_id, codec.decode_response(frame.data)


def test_unary_round_trip_with_protobuf_messages(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            assert await client.call(SVC, "Echo", b"hello") == b"hello"
            assert await client.call(SVC, "Echo") == b""
            resp = await client.unary("containerd.task.v2.Task", "State",
                                      shim_pb2.StateRequest(id="c1", exec_id="e1"),
                                      shim_pb2.StateResponse)
            assert (resp.id, resp.exec_id, resp.status, resp.pid) == (
                "c1", "e1", task_pb2.RUNNING, 42)
            assert await client.call(SVC, "Meta", metadata=(("X-Who", "a"), ("x-who", "b"))) \
                == b"a,b"
    run(sock_path, scenario)


def test_status_errors_become_typed_exceptions(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            with pytest.raises(errors.NotFound) as caught:
                await client.call(SVC, "Fail", b"x1")
            assert caught.value.message == "thing x1: not found"
            assert caught.value.details == (("type.example/Detail", b"\1"),)
            with pytest.raises(errors.Unimplemented, match=r"service nope\.Svc"):
                await client.call("nope.Svc", "Echo")
            with pytest.raises(errors.Unimplemented, match="method Nope"):
                await client.call(SVC, "Nope")
            with pytest.raises(errors.InvalidArgument, match="cannot decode StateRequest"):
                await client.call("containerd.task.v2.Task", "State", b"\xff\xff")
            # A handler's own bug answers Unknown, logged in one line without a traceback.
            with pytest.raises(errors.Unknown, match="ValueError: bad things"):
                await client.call(SVC, "Crash")
            assert h.logged == ["ttrpc server: /test.v1.Things/Crash: ValueError: bad things"]
            assert await client.call(SVC, "Echo", b"still fine") == b"still fine"
    run(sock_path, scenario)


def test_client_deadline_travels_to_the_server_and_cancels_the_handler(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            with pytest.raises(errors.DeadlineExceeded):
                await client.call(SVC, "Block", b"", timeout=0.05)
            async with asyncio.timeout(LONG):
                await h.cancelled.wait()
            assert await client.call(SVC, "Echo", b"next") == b"next"
    run(sock_path, scenario)


def test_server_enforces_timeout_nano(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await raw_connection(sock_path)
        await raw_request(writer, 1, "Block", timeout_nano=1_000_000)
        sid, resp = await raw_response(reader)
        assert (sid, resp.status.code) == (1, errors.DEADLINE_EXCEEDED)
        assert h.cancelled.is_set()
        writer.close()
    run(sock_path, scenario)


def test_many_concurrent_calls_on_one_connection(sock_path: str) -> None:
    n = 50

    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            calls = [asyncio.ensure_future(client.call(SVC, "Block", b"%d" % i))
                     for i in range(n)]
            await h.wait_entered(n)  # every handler is in flight at once
            assert not any(c.done() for c in calls)
            assert await client.call(SVC, "Echo", b"unblocked") == b"unblocked"
            h.release.set()
            assert await asyncio.gather(*calls) == [b"%d" % i for i in range(n)]
    run(sock_path, scenario)


def test_a_cancelled_call_leaves_the_connection_usable(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            call = asyncio.ensure_future(client.call(SVC, "Block", b"late"))
            await h.wait_entered(1)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            h.release.set()  # its response now arrives for a stream nobody waits on
            assert await client.call(SVC, "Echo", b"after") == b"after"
            assert await client.call(SVC, "Block", b"again") == b"again"
    run(sock_path, scenario)


def test_oversized_messages_are_refused_both_ways(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async with await Client.connect(sock_path) as client:
            with pytest.raises(errors.ResourceExhausted, match="exceeds the maximum"):
                await client.call(SVC, "Echo", b"\0" * framing.MAX_MESSAGE)
            with pytest.raises(errors.ResourceExhausted, match="exceeds the maximum"):
                await client.call(SVC, "Big")
            assert await client.call(SVC, "Echo", b"ok") == b"ok"
        # A frame over the limit on the wire: skipped, answered on its stream, connection kept.
        reader, writer = await raw_connection(sock_path)
        big = framing.MAX_MESSAGE + 1
        writer.write(framing.HEADER.pack(big, 1, framing.REQUEST, 0) + b"\0" * big)
        sid, resp = await raw_response(reader)
        assert (sid, resp.status.code) == (1, errors.RESOURCE_EXHAUSTED)
        await raw_request(writer, 3, "Echo", b"kept")
        assert await raw_response(reader) == (3, codec.Response(payload=b"kept"))
        writer.close()
    run(sock_path, scenario)


def test_stream_id_rules(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await raw_connection(sock_path)
        await raw_request(writer, 2, "Echo")
        sid, resp = await raw_response(reader)
        assert (sid, resp.status.code) == (2, errors.INVALID_ARGUMENT)
        assert "must be odd" in resp.status.message
        await raw_request(writer, 5, "Echo", b"a")
        assert await raw_response(reader) == (5, codec.Response(payload=b"a"))
        await raw_request(writer, 3, "Echo")
        sid, resp = await raw_response(reader)
        assert (sid, resp.status.code) == (3, errors.INVALID_ARGUMENT)
        writer.write(framing.encode(7, framing.REQUEST, 0, b"\x0a\x09short"))
        sid, resp = await raw_response(reader)
        assert (sid, resp.status.code) == (7, errors.INVALID_ARGUMENT)
        assert "unmarshal request error" in resp.status.message
        writer.close()
    run(sock_path, scenario)


def test_garbage_closes_the_connection_with_one_clear_line(
        sock_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await raw_connection(sock_path)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(LONG):
            assert await reader.read() == b""  # closed by the server, nothing sent back
        writer.close()
        assert len(h.logged) == 1 and "not a ttrpc frame header" in h.logged[0]
        async with await Client.connect(sock_path) as client:  # the server is still serving
            assert await client.call(SVC, "Echo", b"x") == b"x"
    run(sock_path, scenario)
    assert "Traceback" not in capsys.readouterr().err


def test_client_fails_calls_on_garbage_from_the_server(sock_path: str) -> None:
    async def scenario() -> None:
        async def bogus(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(10)
            writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            await writer.drain()
            await reader.read()
            writer.close()

        server = await asyncio.start_unix_server(bogus, path=sock_path)
        try:
            client = await Client.connect(sock_path)
            with pytest.raises(errors.ProtocolError, match="not a ttrpc frame header"):
                await client.call(SVC, "Echo", timeout=LONG)
            with pytest.raises(errors.ProtocolError):
                await client.call(SVC, "Echo")
            assert client.closed
            await client.close()
        finally:
            server.close()
    asyncio.run(scenario())


def test_calls_in_flight_fail_when_the_connection_is_lost(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        client = await Client.connect(sock_path)
        call = asyncio.ensure_future(client.call(SVC, "Block"))
        await h.wait_entered(1)
        await h.server.close()  # immediate close: handlers cancelled, connections dropped
        with pytest.raises(errors.ConnectionClosed):
            await call
        assert h.cancelled.is_set()
        with pytest.raises(errors.ConnectionClosed):
            await client.call(SVC, "Echo")
        await client.close()
    run(sock_path, scenario)


def test_connecting_to_nothing_is_a_clear_error(sock_path: str) -> None:
    async def scenario() -> None:
        with pytest.raises(errors.ConnectionClosed, match="cannot connect to ttrpc server at"):
            await Client.connect(sock_path)
    asyncio.run(scenario())


def test_shutdown_closes_idle_connections_and_waits_for_calls_in_flight(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        busy = await Client.connect(sock_path)
        idle = await Client.connect(sock_path)
        assert await idle.call(SVC, "Echo", b"1") == b"1"
        call = asyncio.ensure_future(busy.call(SVC, "Block", b"finished"))
        await h.wait_entered(1)
        shutdown = asyncio.ensure_future(h.server.shutdown())
        async with asyncio.timeout(LONG):
            while not idle.closed:  # the idle connection is closed by the server
                await asyncio.sleep(0.01)
        with pytest.raises(errors.ConnectionClosed):
            await idle.call(SVC, "Echo")
        # The busy connection stays for its call, but takes no new ones.
        with pytest.raises(errors.Unavailable, match="shutting down"):
            await busy.call(SVC, "Echo")
        assert not shutdown.done()
        with pytest.raises(errors.ConnectionClosed):
            await Client.connect(sock_path)  # no longer listening
        h.release.set()
        assert await call == b"finished"
        async with asyncio.timeout(LONG):
            await shutdown
        assert h.server.connections == 0 and not h.cancelled.is_set()
        await busy.close()
        await idle.close()
    run(sock_path, scenario)


def test_shutdown_from_a_handler_answers_that_call(sock_path: str) -> None:
    async def scenario(h: Harness) -> None:
        async def stop(ctx: Context, payload: bytes) -> bytes:
            await h.server.shutdown()
            return b"bye"

        h.server.register(SVC, {"Shutdown": UnaryMethod(stop)})
        async with await Client.connect(sock_path) as client:
            assert await client.call(SVC, "Shutdown") == b"bye"
            async with asyncio.timeout(LONG):
                while not client.closed:
                    await asyncio.sleep(0.01)
    run(sock_path, scenario)
