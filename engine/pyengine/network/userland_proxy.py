"""The userland proxy: the daemon serves published ports that NAT cannot carry, as dockerd
20.10's docker-proxy does. Containers have IPv4 addresses only, so the "::" twin of a port
published on an unspecified host IP (and an explicit IPv6 host IP) is served here: the
reserved socket (reservations.py) is handed to the daemon's event loop.

TCP: each accepted connection gets its own to container_ip:container_port; bytes are copied
both ways, at most CHUNK at a time and each write drained before the next read (bounded
buffers); an EOF is passed on as a half-close, and when either side fails both are closed.
UDP: each client address gets its own upstream socket connected to the container's port, whose
replies go back from the published socket; a flow idle for `udp_idle` seconds is dropped
(docker-proxy's 90 s), at most MAX_UDP_FLOWS at a time (more are dropped, as a full conntrack
table drops them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

log = logging.getLogger("pyengine.network.proxy")

CHUNK = 65536
UDP_IDLE = 90.0  # docker-proxy's UDPConnTrackTimeout
MAX_UDP_FLOWS = 1024
MAX_UDP_PENDING = 64  # datagrams of a flow held while its upstream socket opens


@dataclass(frozen=True)
class Target:
    """One published socket to serve: host_ip:host_port/proto to container_ip:container_port."""

    host_ip: str
    host_port: int
    proto: str  # "tcp" | "udp"
    container_ip: str
    container_port: int


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """src's bytes to dst until src's EOF, which dst's peer then sees (a half-close)."""
    while True:
        data = await src.read(CHUNK)
        if not data:
            break
        dst.write(data)
        await dst.drain()
    if dst.can_write_eof():
        dst.write_eof()


async def _closed(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()


@dataclass
class _TcpProxy:
    target: Target
    server: asyncio.Server | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, sock: socket.socket) -> None:
        self.server = await asyncio.start_server(self._serve, sock=sock, limit=CHUNK)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the relay is a task of its own: close() cancels it, not the streams' callback task
        # (which would log the cancellation as an error)
        relay = asyncio.ensure_future(self._relay(reader, writer))
        self.tasks.add(relay)
        relay.add_done_callback(self.tasks.discard)
        await asyncio.wait([relay])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            up_reader, upstream = await asyncio.open_connection(
                self.target.container_ip, self.target.container_port, limit=CHUNK)
            pumps = [asyncio.ensure_future(_pump(reader, upstream)),
                     asyncio.ensure_future(_pump(up_reader, writer))]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        except OSError:
            pass  # the container refused or reset: the client's connection closes
        finally:
            if upstream is not None:
                await _closed(upstream)
            await _closed(writer)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()  # the listening socket closes: the port is free again
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()


class _Flow(asyncio.DatagramProtocol):
    """One UDP client's upstream socket, connected to the container's port."""

    def __init__(self, owner: _UdpProxy, client: tuple[str | object, ...]) -> None:
        self.owner = owner
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.last = asyncio.get_running_loop().time()
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's UDPTransport does not derive from asyncio's DatagramTransport)
        self.transport = cast("asyncio.DatagramTransport", transport)
        for data in self.pending:
            self.transport.sendto(data)
        self.pending.clear()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.last = asyncio.get_running_loop().time()
        self.owner.reply(data, self.client)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable from the container: as docker-proxy, the client waits

    def send(self, data: bytes) -> None:
        self.last = asyncio.get_running_loop().time()
        if self.transport is not None:
            self.transport.sendto(data)
        elif len(self.pending) < MAX_UDP_PENDING:
            self.pending.append(data)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.transport.close()


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, owner: _UdpProxy) -> None:
        self.owner = owner
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.owner.from_client(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class _UdpProxy:
    target: Target
    idle: float
    transport: asyncio.DatagramTransport | None = None
    listener: _Listener | None = None
    flows: dict[tuple[str | object, ...], _Flow] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        listener = self.listener = _Listener(self)
        self.transport, _ = await loop.create_datagram_endpoint(lambda: listener, sock=sock)

    def from_client(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        flow = self.flows.get(addr)
        if flow is None:
            if len(self.flows) >= MAX_UDP_FLOWS:
                return
            flow = self.flows[addr] = _Flow(self, addr)
            task = asyncio.get_running_loop().create_task(self._open(flow))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        flow.send(data)

    async def _open(self, flow: _Flow) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(
                lambda: flow, remote_addr=(self.target.container_ip, self.target.container_port))
        except OSError as err:
            log.debug("userland proxy: no upstream socket for a UDP client: %s", err)
            self._drop(flow)
            return
        flow.timer = loop.call_later(self.idle, self._expire, flow)

    def _expire(self, flow: _Flow) -> None:
        loop = asyncio.get_running_loop()
        left = flow.last + self.idle - loop.time()
        if left > 0:
            flow.timer = loop.call_later(left, self._expire, flow)
        else:
            self._drop(flow)

    def _drop(self, flow: _Flow) -> None:
        if self.flows.get(flow.client) is flow:
            del self.flows[flow.client]
        flow.close()

    def reply(self, data: bytes, client: tuple[str | object, ...]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        for flow in list(self.flows.values()):
            self._drop(flow)
        if self.transport is not None:
            self.transport.close()
        if self.listener is not None:
            await self.listener.closed  # the socket is really closed a loop turn later


_Proxy = _TcpProxy | _UdpProxy


class UserlandProxy:
    """The proxied ports of all containers, by container id (on the daemon's loop)."""

    def __init__(self, *, udp_idle: float = UDP_IDLE) -> None:
        self._udp_idle = udp_idle
        self._served: dict[str, list[_Proxy]] = {}

    def serving(self, cid: str) -> bool:
        return cid in self._served

    def open_connections(self, cid: str) -> int:
        """TCP connections and UDP flows of `cid` being proxied now."""
        return sum(len(p.tasks) if isinstance(p, _TcpProxy) else len(p.flows)
                   for p in self._served.get(cid, ()))

    async def serve(self, cid: str, sockets: Sequence[tuple[Target, socket.socket]]) -> None:
        """Serve each (target, socket) for container `cid`; the sockets are the proxy's from
        here (closed by close(), or now when this fails). Again for a served container: its
        old ones are closed first."""
        await self.close(cid)
        started: list[_Proxy] = []
        try:
            for i, (target, sock) in enumerate(sockets):
                sock.setblocking(False)
                proxy: _Proxy = _TcpProxy(target) if target.proto == "tcp" else \
                    _UdpProxy(target, self._udp_idle)
                try:
                    await proxy.start(sock)
                except BaseException:
                    for _, rest in sockets[i:]:
                        rest.close()
                    raise
                started.append(proxy)
        except BaseException:
            for proxy in started:
                await proxy.close()
            raise
        if started:
            self._served[cid] = started

    async def close(self, cid: str) -> None:
        """Stop serving `cid`: listeners and every proxied connection closed. Idempotent."""
        for proxy in self._served.pop(cid, []):
            await proxy.close()

    async def close_all(self) -> None:
        for cid in list(self._served):
            await self.close(cid)
