"""The embedded DNS in a real network namespace: a child `unshare --net` process stands for a
container; EmbeddedDns binds 127.0.0.11:53 (UDP and TCP) inside it from the test's event loop
and forwards unknown names to a fake upstream on 127.0.0.1 of the test's own namespace (the
daemon's side). Queries are sent from a thread that entered the child's namespace. Closing
must leave no socket of ours there: the address can be bound again and our process holds no
more sockets than before."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Callable, Iterator

import dns.message
import dns.query
import dns.rcode
import pytest
from pyengine.network.dns import PTR, A, EmbeddedDns, run_in_netns

from tests.fixtures import netns
from tests.fixtures.fakedns import FakeResolver

pytestmark = pytest.mark.root


@pytest.fixture
def container_netns() -> Iterator[int]:
    """An open descriptor of a fresh network namespace (loopback up) held by a child."""
    child = subprocess.Popen(
        ["unshare", "--net", "sh", "-c", "ip link set lo up && echo ready && exec sleep 600"],
        stdout=subprocess.PIPE, text=True)
    fd = -1
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        fd = os.open(f"/proc/{child.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        assert os.readlink(f"/proc/{child.pid}/ns/net") != netns.MACHINE
        yield fd
    finally:
        if fd >= 0:
            os.close(fd)
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def lookup(cid: str, name: str, qtype: int) -> list[str] | None:
    if qtype == A:
        return {"web": ["10.77.0.2"], "db": ["10.77.0.3"]}.get(name)
    return ["web.net1"] if qtype == PTR and name == "2.0.77.10.in-addr.arpa" else None


def socket_count() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # the listing's own descriptor, closed since
            pass
    return count


def query_inside(fd: int, name: str, qtype: str = "A", tcp: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, qtype)
    send: Callable[..., dns.message.Message] = dns.query.tcp if tcp else dns.query.udp
    return run_in_netns(fd, lambda: send(q, "127.0.0.11", timeout=10))


def addresses(reply: dns.message.Message) -> list[str]:
    return [r.to_text() for rrset in reply.answer for r in rrset]


def free_inside(fd: int) -> bool:
    """127.0.0.11:53 can be bound again, UDP and TCP, in the namespace."""
    def bind() -> bool:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind(("127.0.0.11", 53))
            tcp.bind(("127.0.0.11", 53))
            return True
        except OSError:
            return False
        finally:
            udp.close()
            tcp.close()
    return run_in_netns(fd, bind)


def test_embedded_dns_in_a_namespace(container_netns: int) -> None:
    fd = container_netns

    async def main() -> None:
        before = socket_count()
        upstream = await FakeResolver(records={"example.test": "192.0.2.7"}).start()
        server = EmbeddedDns(lookup, lambda cid: [("127.0.0.1", upstream.port)])
        try:
            await server.listen("c1", fd)
            assert not await asyncio.to_thread(free_inside, fd)

            async def inside(name: str, qtype: str = "A", tcp: bool = False
                             ) -> dns.message.Message:
                return await asyncio.to_thread(query_inside, fd, name, qtype, tcp)

            for tcp in (False, True):
                assert addresses(await inside("web", tcp=tcp)) == ["10.77.0.2"]
                assert addresses(await inside("DB.", tcp=tcp)) == ["10.77.0.3"]
                assert addresses(await inside("example.test", tcp=tcp)) == ["192.0.2.7"]
            assert upstream.seen == [("example.test", "udp"), ("example.test", "tcp")]
            aaaa = await inside("web", "AAAA")
            assert aaaa.rcode() == dns.rcode.NOERROR and not aaaa.answer
            assert addresses(await inside("2.0.77.10.in-addr.arpa", "PTR")) == ["web.net1."]
            missing = await inside("missing.test")
            assert missing.rcode() == dns.rcode.NXDOMAIN
            await upstream.stop()  # no upstream left: SERVFAIL, not silence
            assert (await inside("other.test")).rcode() == dns.rcode.SERVFAIL
            # listening again (a restarted container) replaces the listeners
            await server.listen("c1", fd)
            assert addresses(await inside("web")) == ["10.77.0.2"]
        finally:
            await server.close_all()
            await upstream.stop()
        assert not server.listening("c1")
        assert await asyncio.to_thread(free_inside, fd)
        assert socket_count() == before

    with netns.entered():  # the test's own namespace plays the daemon's
        asyncio.run(main())
