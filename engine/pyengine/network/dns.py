"""The embedded DNS server of user-defined networks (docker's 127.0.0.11).

Each container gets a UDP socket and a TCP listener bound to 127.0.0.11:53 INSIDE its network
namespace (opened on a short-lived thread that entered it), served by the daemon's event loop.
Names the network domain knows (container names, aliases, short ids: the `lookup` callback)
get A answers (TTL 600 as docker's), AAAA and MX of them an empty NOERROR, and PTR queries of
their addresses the names; everything else is forwarded, over the protocol it came on, to the
container's upstreams in turn (an upstream that fails, refuses or answers a non-authoritative
NXDOMAIN is skipped as docker does), SERVFAIL when none answers. Forwards run from the daemon's
namespace, at most `max_inflight` at a time per container (more get SERVFAIL at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from pyengine.errors import EngineError
from pyengine.network.nsenter import run_in_netns

ADDRESS = "127.0.0.11"
PORT = 53
TTL = 600  # docker's respTTL
UPSTREAM_TIMEOUT = 4.0  # docker's extIOTimeout, per upstream
MAX_UPSTREAMS = 3  # docker tries at most three external servers
MAX_INFLIGHT = 100  # forwards in flight per container
MAX_TCP_CLIENTS = 32  # open TCP connections per container
TCP_IDLE = 10.0  # seconds a TCP client may keep a connection without a query
UDP_MIN_SIZE = 512

A = int(dns.rdatatype.A)
AAAA = int(dns.rdatatype.AAAA)
MX = int(dns.rdatatype.MX)
PTR = int(dns.rdatatype.PTR)

# lookup(cid, name, qtype): `name` is the question's name in lower case without the final dot
# ("web", "2.0.77.10.in-addr.arpa"); qtype A (also asked for AAAA and MX questions): the
# name's IPv4 addresses ([] for a known name without any); qtype PTR: the names of the
# address. None: not a name of the container's networks (the question is forwarded).
# Called on the event loop: it must not block (an in-memory lookup).
Lookup = Callable[[str, str, int], list[str] | None]
Upstreams = Callable[[str], Sequence[tuple[str, int]]]

def _open_sockets(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP socket and a listening TCP socket on host:port (in the calling thread's
    namespace), non-blocking, ready for the event loop."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((host, port))
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((host, port))
        tcp.listen(64)
        udp.setblocking(False)
        tcp.setblocking(False)
    except BaseException:
        udp.close()
        tcp.close()
        raise
    return udp, tcp


# -- messages -------------------------------------------------------------------------------

def _reply(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    return response


def local_answer(lookup: Lookup, cid: str,
                 query: dns.message.Message) -> dns.message.Message | None:
    """The answer to `query` from the container's networks, or None: forward it."""
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        return None
    question = query.question[0]
    if question.rdclass != dns.rdataclass.IN:
        return None
    qtype = int(question.rdtype)
    name = question.name.to_text(omit_final_dot=True).lower()
    if qtype == PTR:
        names = lookup(cid, name, PTR)
        if not names:
            return None
        response = _reply(query)
        targets = [dns.name.from_text(n).to_text() for n in names]
        response.answer.append(dns.rrset.from_text_list(question.name, TTL, "IN", "PTR",
                                                        targets))
        return response
    if qtype not in (A, AAAA, MX):
        return None
    addresses = lookup(cid, name, A)
    if addresses is None:
        return None
    response = _reply(query)  # AAAA, MX: the name exists, without such records
    if qtype == A and addresses:
        shuffled = random.sample(addresses, len(addresses))  # docker's round robin
        response.answer.append(dns.rrset.from_text_list(question.name, TTL, "IN", "A",
                                                        shuffled))
    return response


def udp_limit(query: dns.message.Message) -> int:
    """The largest UDP answer the client takes: its EDNS payload size, at least 512."""
    return max(UDP_MIN_SIZE, query.payload if query.edns >= 0 else 0)


def to_wire(response: dns.message.Message, limit: int) -> bytes:
    """`response` in wire format within `limit` bytes: answers dropped from the end, and the
    TC bit set, until it fits (the client then asks again over TCP)."""
    while True:
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.flags |= dns.flags.TC
            if not response.answer:
                raise
            rrset = response.answer[-1]
            if len(rrset) > 1:
                rrset.remove(list(rrset)[-1])
            else:
                response.answer.pop()


def error_reply(wire: bytes, rcode: dns.rcode.Rcode) -> bytes | None:
    """A bare answer (the query's id, opcode, RD and question when they parse) with `rcode`;
    None when not even a header came."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        if len(wire) < 12:
            return None
        ident, flags = struct.unpack("!HH", wire[:4])
        flags = (flags & 0x7900) | 0x8080 | int(rcode)  # opcode, RD kept; QR, RA set
        return struct.pack("!HHHHHH", ident, flags, 0, 0, 0, 0)
    response = _reply(query)
    response.set_rcode(rcode)
    return response.to_wire()


def _accept(wire: bytes) -> tuple[bool, int]:
    """Whether an upstream's answer ends the search (docker's rules), and its rcode."""
    try:
        message = dns.message.from_wire(wire, ignore_trailing=True)
    except dns.message.Truncated:
        return True, 0  # a truncated answer goes to the client, which retries over TCP
    except dns.exception.DNSException:
        return False, -1
    rcode = message.rcode()
    if rcode == dns.rcode.NOERROR:
        return True, rcode
    if rcode == dns.rcode.NXDOMAIN:
        return bool(message.flags & dns.flags.AA), rcode
    return False, rcode


# -- forwarding -----------------------------------------------------------------------------

class _UpstreamUdp(asyncio.DatagramProtocol):
    def __init__(self, ident: bytes) -> None:
        self.ident = ident
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if data[:2] == self.ident and not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def _ask_udp(wire: bytes, host: str, port: int, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _UpstreamUdp(wire[:2]), remote_addr=(host, port))
    try:
        transport.sendto(wire)
        return await asyncio.wait_for(protocol.answer, timeout)
    finally:
        transport.close()


async def _ask_tcp(wire: bytes, host: str, port: int, timeout: float) -> bytes:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            (size,) = struct.unpack("!H", await reader.readexactly(2))
            return await reader.readexactly(size)
        finally:
            writer.close()

    return await asyncio.wait_for(exchange(), timeout)


# -- serving --------------------------------------------------------------------------------

@dataclass
class _Listener:
    udp: asyncio.DatagramTransport
    server: asyncio.Server
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    inflight: int = 0


class _ClientUdp(asyncio.DatagramProtocol):
    def __init__(self, owner: EmbeddedDns, cid: str) -> None:
        self.owner = owner
        self.cid = cid

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.owner._on_udp(self.cid, data, addr)


class EmbeddedDns:
    """The embedded DNS servers of all containers on user-defined networks."""

    def __init__(self, lookup: Lookup, upstreams: Upstreams, *,
                 timeout: float = UPSTREAM_TIMEOUT, max_inflight: int = MAX_INFLIGHT,
                 address: str = ADDRESS, port: int = PORT) -> None:
        self._lookup = lookup
        self._upstreams = upstreams
        self._timeout = timeout
        self._max_inflight = max_inflight
        self._address = address
        self._port = port
        self._listeners: dict[str, _Listener] = {}

    def listening(self, cid: str) -> bool:
        return cid in self._listeners

    async def listen(self, cid: str, netns_fd: int) -> None:
        """Serve container `cid` on 127.0.0.11:53 in the namespace `netns_fd` (an open
        /proc/PID/ns/net; the caller keeps and closes it). Again for a served container:
        its old listeners are closed first (a restart has a new namespace)."""
        await self.close(cid)
        try:
            udp, tcp = await asyncio.to_thread(
                run_in_netns, netns_fd, lambda: _open_sockets(self._address, self._port))
        except OSError as err:
            raise EngineError(f"start embedded DNS of container {cid[:12]} on "
                              f"{self._address}:{self._port}: {err.strerror or err}") from err
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _ClientUdp(self, cid), sock=udp)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        try:
            server = await asyncio.start_server(
                lambda r, w: self._serve_tcp(cid, r, w), sock=tcp)
        except BaseException:
            transport.close()
            tcp.close()
            raise
        self._listeners[cid] = _Listener(udp=transport, server=server)

    async def close(self, cid: str) -> None:
        """Stop serving `cid`: its sockets closed (its namespace can go), forwards cancelled.
        Idempotent."""
        listener = self._listeners.pop(cid, None)
        if listener is None:
            return
        listener.udp.close()
        listener.server.close()
        for writer in list(listener.writers):
            writer.close()
        for task in list(listener.tasks):
            task.cancel()
        if listener.tasks:
            await asyncio.gather(*listener.tasks, return_exceptions=True)
        await listener.server.wait_closed()

    async def close_all(self) -> None:
        for cid in list(self._listeners):
            await self.close(cid)

    # -- queries ---------------------------------------------------------------------------

    async def answer(self, cid: str, wire: bytes, tcp: bool) -> bytes | None:
        """The reply to one query of container `cid` (None: nothing to send back)."""
        reply = self._answer_locally(cid, wire, tcp)
        if reply is not None:
            return reply
        return await self._forward(cid, wire, tcp)

    def _answer_locally(self, cid: str, wire: bytes, tcp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return error_reply(wire, dns.rcode.FORMERR)
        response = local_answer(self._lookup, cid, query)
        if response is None:
            return None
        return to_wire(response, 65535 if tcp else udp_limit(query))

    async def _forward(self, cid: str, wire: bytes, tcp: bool) -> bytes | None:
        last: bytes | None = None
        ask = _ask_tcp if tcp else _ask_udp
        for host, port in list(self._upstreams(cid))[:MAX_UPSTREAMS]:
            try:
                reply = await ask(wire, host, port, self._timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                continue
            done, rcode = _accept(reply)
            if rcode >= 0:
                last = reply
            if done:
                return reply
        return last if last is not None else error_reply(wire, dns.rcode.SERVFAIL)

    def _start(self, cid: str, work: Callable[[], Awaitable[None]]) -> bool:
        """Run a forward as a task of `cid`'s listener; False when too many are in flight."""
        listener = self._listeners.get(cid)
        if listener is None or listener.inflight >= self._max_inflight:
            return False
        listener.inflight += 1

        async def run() -> None:
            try:
                await work()
            finally:
                listener.inflight -= 1

        task = asyncio.get_running_loop().create_task(run())
        listener.tasks.add(task)
        task.add_done_callback(listener.tasks.discard)
        return True

    def _on_udp(self, cid: str, data: bytes, addr: tuple[str | object, ...]) -> None:
        listener = self._listeners.get(cid)
        if listener is None:
            return
        transport = listener.udp
        reply = self._answer_locally(cid, data, tcp=False)
        if reply is not None:
            transport.sendto(reply, addr)
            return

        async def forward() -> None:
            answer = await self._forward(cid, data, tcp=False)
            if answer is not None and not transport.is_closing():
                transport.sendto(answer, addr)

        if not self._start(cid, forward):
            busy = error_reply(data, dns.rcode.SERVFAIL)
            if busy is not None:
                transport.sendto(busy, addr)

    async def _serve_tcp(self, cid: str, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        listener = self._listeners.get(cid)
        if listener is None or len(listener.writers) >= MAX_TCP_CLIENTS:
            writer.close()
            return
        listener.writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            listener.tasks.add(task)  # close() cancels a connection waiting on upstreams
        try:
            while True:
                (size,) = struct.unpack(
                    "!H", await asyncio.wait_for(reader.readexactly(2), TCP_IDLE))
                wire = await asyncio.wait_for(reader.readexactly(size), TCP_IDLE)
                reply = self._answer_locally(cid, wire, tcp=True)
                if reply is None:
                    if listener.inflight >= self._max_inflight:
                        reply = error_reply(wire, dns.rcode.SERVFAIL)
                    else:
                        listener.inflight += 1
                        try:
                            reply = await self._forward(cid, wire, tcp=True)
                        finally:
                            listener.inflight -= 1
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            listener.writers.discard(writer)
            if task is not None:
                listener.tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
