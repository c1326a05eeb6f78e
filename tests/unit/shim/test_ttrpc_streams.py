"""ttrpc 1.2 streams between our client and our server: server streaming, client streaming,
both ways, errors and deadlines on a stream, and the frames' flags on the wire."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from pyengine.shim.ttrpc import codec, errors, framing
from pyengine.shim.ttrpc.client import Client, ClientStream
from pyengine.shim.ttrpc.server import Context, Server, ServerStream, StreamMethod

SVC = "test.v1.Streams"
LONG = 60


async def count(ctx: Context, stream: ServerStream) -> None:
    n = int(await stream.recv() or b"0")
    for i in range(n):
        await stream.send(b"%d" % i)
    return None


async def total(ctx: Context, stream: ServerStream) -> bytes:
    result = 0
    while (msg := await stream.recv()) is not None:
        result += int(msg)
    return b"%d" % result


async def echo(ctx: Context, stream: ServerStream) -> None:
    while (msg := await stream.recv()) is not None:
        await stream.send(msg.upper())
    return None


async def broken(ctx: Context, stream: ServerStream) -> None:
    await stream.send(b"first")
    raise errors.FailedPrecondition("process exited")


async def forever(ctx: Context, stream: ServerStream) -> None:
    await asyncio.Event().wait()


def make_server() -> Server:
    server = Server()
    server.register(SVC, {
        "Count": StreamMethod(count, client_streaming=False, server_streaming=True),
        "Total": StreamMethod(total, client_streaming=True, server_streaming=False),
        "Echo": StreamMethod(echo, client_streaming=True, server_streaming=True),
        "Broken": StreamMethod(broken, client_streaming=False, server_streaming=True),
        "Forever": StreamMethod(forever, client_streaming=False, server_streaming=True),
    })
    return server


async def drain(stream: ClientStream) -> list[bytes]:
    out = []
    async with asyncio.timeout(LONG):
        while (msg := await stream.recv()) is not None:
            out.append(msg)
    return out


def run(path: str, scenario: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        server = make_server()
        await server.listen(path)
        try:
            async with await Client.connect(path) as client:
                await scenario(client)
        finally:
            await server.close()
    asyncio.run(main())


def test_server_streaming(sock_path: str) -> None:
    async def scenario(client: Client) -> None:
        stream = await client.stream(SVC, "Count", b"5", client_streaming=False)
        assert await drain(stream) == [b"0", b"1", b"2", b"3", b"4"]
        assert await stream.recv() is None  # stays ended
        empty = await client.stream(SVC, "Count", b"0", client_streaming=False)
        assert await drain(empty) == []
    run(sock_path, scenario)


def test_client_streaming(sock_path: str) -> None:
    async def scenario(client: Client) -> None:
        stream = await client.stream(SVC, "Total", client_streaming=True)
        for i in range(1, 11):
            await stream.send(b"%d" % i)
        await stream.close_send()
        assert await drain(stream) == [b"55"]
        with pytest.raises(errors.FailedPrecondition, match="send after"):
            await stream.send(b"1")
    run(sock_path, scenario)


def test_bidirectional_streams_interleave_on_one_connection(sock_path: str) -> None:
    async def scenario(client: Client) -> None:
        a = await client.stream(SVC, "Echo", client_streaming=True)
        b = await client.stream(SVC, "Echo", client_streaming=True)
        for word in (b"one", b"two"):
            await a.send(word)
            await b.send(word + b"!")
            assert await a.recv() == word.upper()
            assert await b.recv() == word.upper() + b"!"
        await a.close_send()
        await b.close_send()
        assert await drain(a) == [] and await drain(b) == []
    run(sock_path, scenario)


def test_an_error_ends_a_stream_with_its_status(sock_path: str) -> None:
    async def scenario(client: Client) -> None:
        stream = await client.stream(SVC, "Broken", client_streaming=False)
        assert await stream.recv() == b"first"
        with pytest.raises(errors.FailedPrecondition, match="process exited"):
            await stream.recv()
        with pytest.raises(errors.Unimplemented):
            await drain(await client.stream(SVC, "Nope", client_streaming=False))
    run(sock_path, scenario)


def test_a_stream_deadline(sock_path: str) -> None:
    async def scenario(client: Client) -> None:
        stream = await client.stream(SVC, "Forever", client_streaming=False, timeout=0.05)
        with pytest.raises(errors.DeadlineExceeded):
            await drain(stream)
    run(sock_path, scenario)


def test_stream_flags_on_the_wire(sock_path: str) -> None:
    """A server-streaming request carries `remote closed`; data frames carry no flags and the
    end is a data frame with `remote closed | no data`, as ttrpc-go sends it."""
    async def main() -> None:
        server = make_server()
        await server.listen(sock_path)
        try:
            reader, writer = await asyncio.open_unix_connection(sock_path)
            req = codec.encode_request(codec.Request(SVC, "Count", b"2"))
            writer.write(framing.encode(1, framing.REQUEST, framing.FLAG_REMOTE_CLOSED, req))
            frames = []
            async with asyncio.timeout(LONG):
                for _ in range(3):
                    frames.append(await framing.read_frame(reader))
            assert frames == [
                framing.Frame(1, framing.DATA, 0, b"0"), framing.Frame(1, framing.DATA, 0, b"1"),
                framing.Frame(1, framing.DATA,
                              framing.FLAG_REMOTE_CLOSED | framing.FLAG_NO_DATA, b""),
            ]
            # Data for a stream that is not open is refused on that stream.
            writer.write(framing.encode(3, framing.DATA, 0, b"x"))
            async with asyncio.timeout(LONG):
                frame = await framing.read_frame(reader)
            assert frame is not None and frame.type == framing.RESPONSE
            assert codec.decode_response(frame.data).status.code == errors.INVALID_ARGUMENT
            writer.close()
        finally:
            await server.close()
    asyncio.run(main())


def test_close_ends_a_connection_stalled_by_a_handler_that_stops_reading(sock_path: str) -> None:
    """A client-streaming handler that never reads fills its inbox and stalls the connection's
    reader (back pressure, as in ttrpc-go); close() still ends the connection."""
    async def main() -> None:
        entered = asyncio.Event()

        async def deaf(ctx: Context, stream: ServerStream) -> bytes:
            entered.set()
            await asyncio.Event().wait()
            return b""

        server = make_server()
        server.register(SVC, {"Deaf": StreamMethod(deaf, client_streaming=True,
                                                   server_streaming=False)})
        await server.listen(sock_path)
        client = await Client.connect(sock_path)
        stream = await client.stream(SVC, "Deaf", client_streaming=True)
        for i in range(64):
            await stream.send(b"%d" % i)
        async with asyncio.timeout(LONG):
            await entered.wait()
            await server.close()
        assert server.connections == 0
        with pytest.raises(errors.ConnectionClosed):
            await drain(stream)
        await client.close()
    asyncio.run(main())


def test_a_handler_that_returns_before_reading_everything_frees_the_connection(
        sock_path: str) -> None:
    """Messages the handler never read are dropped once it answers: the connection's reader,
    waiting on the full inbox, goes on to the next frames."""
    async def main() -> None:
        async def early(ctx: Context, stream: ServerStream) -> bytes:
            return b"early"

        server = make_server()
        server.register(SVC, {"Early": StreamMethod(early, client_streaming=True,
                                                    server_streaming=False)})
        await server.listen(sock_path)
        try:
            async with await Client.connect(sock_path) as client:
                stream = await client.stream(SVC, "Early", client_streaming=True)
                for i in range(64):
                    await stream.send(b"%d" % i)
                assert await drain(stream) == [b"early"]
                counted = await client.stream(SVC, "Count", b"2", client_streaming=False)
                assert await drain(counted) == [b"0", b"1"]
        finally:
            await server.close()
    asyncio.run(main())
