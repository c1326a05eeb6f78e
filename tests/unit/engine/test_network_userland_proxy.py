"""network/userland_proxy.py with real loopback sockets, on asyncio's loop and uvloop's (the
daemon's): TCP copied both ways with half-closes passed on, a refused upstream closing the
client, close() ending every connection and freeing the port, UDP relayed per client with its
idle flows dropped. The proxy listens on ::1 (as the daemon's "::" twin) when this namespace
has IPv6, else on 127.0.0.1 (the proxy does not care for the family)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, cast

import pytest
from pyengine.network.reservations import ipv6_listenable
from pyengine.network.userland_proxy import Target, UserlandProxy

LOOPS = ["asyncio"]
try:
    import uvloop

    LOOPS.append("uvloop")
except ImportError:  # the daemon falls back to asyncio's loop then
    pass

HOST = "::1" if ipv6_listenable() else "127.0.0.1"
FAMILY = socket.AF_INET6 if ":" in HOST else socket.AF_INET
CID = "c" * 64


def run(loop: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    if loop == "uvloop":
        uvloop.run(main())
    else:
        asyncio.run(main())


def listener(proto: str) -> socket.socket:
    """A held host socket as reservations.py makes it."""
    sock = socket.socket(FAMILY, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    if proto == "tcp":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    if proto == "tcp":
        sock.listen(1)
    return sock


async def served(proxy: UserlandProxy, proto: str, port: int) -> int:
    """The host port of a new listener `proxy` serves for CID, to 127.0.0.1:port."""
    sock = listener(proto)
    host_port = int(sock.getsockname()[1])
    await proxy.serve(CID, [(Target(HOST, host_port, proto, "127.0.0.1", port), sock)])
    return host_port


async def until(check: Callable[[], bool]) -> None:
    """Wait for `check` (bounded by the test's own patience, not asserted on time)."""
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def tcp_backend() -> tuple[asyncio.Server, int]:
    """Echoes upper-cased lines; after the client's EOF says 'bye' and closes."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.write(b"bye")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, limit=1 << 20)
    return server, server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def proxied_tcp() -> AsyncIterator[tuple[UserlandProxy, int, asyncio.StreamReader,
                                               asyncio.StreamWriter]]:
    """A client connected through a proxy to tcp_backend(): (proxy, host port, client's
    streams); proxy and backend closed afterwards."""
    backend, port = await tcp_backend()
    proxy = UserlandProxy()
    try:
        host_port = await served(proxy, "tcp", port)
        reader, writer = await asyncio.open_connection(HOST, host_port)
        yield proxy, host_port, reader, writer
    finally:
        await proxy.close(CID)
        backend.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_tcp_is_copied_both_ways_and_a_half_close_passed_on(loop: str) -> None:
    async def main() -> None:
        async with proxied_tcp() as (proxy, _, reader, writer):
            big = b"x" * 300_000 + b"\n"  # more than the proxy's buffers hold at once
            writer.write(b"hello\n" + big)
            await writer.drain()
            assert await reader.readline() == b"HELLO\n"
            assert await reader.readexactly(len(big)) == big.upper()
            writer.write_eof()  # the backend sees EOF, answers, then closes
            assert await reader.read() == b"bye"
            writer.close()
            await until(lambda: proxy.open_connections(CID) == 0)

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_refused_upstream_closes_the_client(loop: str) -> None:
    async def main() -> None:
        with socket.socket() as unused:  # a port with nobody listening
            unused.bind(("127.0.0.1", 0))
            dead = unused.getsockname()[1]
        proxy = UserlandProxy()
        host_port = await served(proxy, "tcp", dead)
        try:
            reader, writer = await asyncio.open_connection(HOST, host_port)
            try:
                assert await reader.read() == b""
            except ConnectionResetError:
                pass
            writer.close()
            await until(lambda: proxy.open_connections(CID) == 0)
        finally:
            await proxy.close(CID)

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_close_ends_every_connection_and_frees_the_port(loop: str) -> None:
    async def main() -> None:
        async with proxied_tcp() as (proxy, host_port, reader, writer):
            writer.write(b"one\n")
            assert await reader.readline() == b"ONE\n"
            assert proxy.open_connections(CID) == 1
            await proxy.close(CID)
            assert not proxy.serving(CID)
            assert await reader.read() == b""  # the proxied connection went with it
            writer.close()
            await writer.wait_closed()
            with socket.socket(FAMILY) as again:  # and nobody holds the port (its closed
                again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connection
                again.bind((HOST, host_port))  # waits in TIME_WAIT: reservations.py's way)
                again.listen(1)

    run(loop, main)


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's UDPTransport does not derive from asyncio's DatagramTransport)
        self.transport = cast("asyncio.DatagramTransport", transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.transport.sendto(b"echo:" + data + b" from " + str(addr[1]).encode(), addr)


@pytest.mark.parametrize("loop", LOOPS)
def test_udp_is_relayed_per_client_and_idle_flows_dropped(loop: str) -> None:
    async def main() -> None:
        running = asyncio.get_running_loop()
        echo, _ = await running.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
        port = echo.get_extra_info("sockname")[1]
        proxy = UserlandProxy(udp_idle=0.2)
        host_port = await served(proxy, "udp", port)
        clients = [socket.socket(FAMILY, socket.SOCK_DGRAM) for _ in range(2)]
        try:
            sources = set()
            for i, client in enumerate(clients):
                client.settimeout(10)
                client.connect((HOST, host_port))
                client.send(f"ping{i}".encode())
                answer = await asyncio.to_thread(client.recv, 1024)
                assert answer.startswith(f"echo:ping{i} from ".encode())
                sources.add(answer.rpartition(b" ")[2])
            assert len(sources) == 2  # each client has its own upstream socket
            assert proxy.open_connections(CID) == 2
            await until(lambda: proxy.open_connections(CID) == 0)  # idle: dropped
            clients[0].send(b"again")  # a new flow for a client seen before
            assert (await asyncio.to_thread(clients[0].recv, 1024)).startswith(b"echo:again")
        finally:
            for client in clients:
                client.close()
            await proxy.close(CID)
            echo.close()
        with socket.socket(FAMILY, socket.SOCK_DGRAM) as again:
            again.bind((HOST, host_port))

    run(loop, main)
