"""NetworkService with its real parts (pyroute2, iptables-restore, host port reservations, the
embedded DNS) and no engine, in the module's own network namespace (tests/fixtures/netns.py):
two sandboxes (processes alone in new network namespaces, as a container's init) on a user
network get their veths, addresses and /etc files; each resolves the other's name and alias
through 127.0.0.11 inside its namespace; a published port answers on 127.0.0.1; detach,
unregister and remove leave no link, listener or rule, and the default bridge is never made
when no container uses it."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
from pyengine.config import build_config
from pyengine.events import EventBus
from pyengine.network.model import ContainerNet, EndpointRequest
from pyengine.network.nsenter import run_in_netns
from pyengine.network.service import NetworkService
from pyengine.store import Database

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.integration.engine_network.nl_sandbox import Sandbox, ip_json, links

pytestmark = [pytest.mark.root]

SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(4)
print("ready", flush=True)
c, peer = s.accept(); c.sendall(b"hello"); c.close()
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[NetworkService]:
    cfg = build_config({}, {"data_root": str(tmp_path / "data"),
                            "dns_upstream": ["127.0.0.1:9"]})
    db = Database(tmp_path / "m.db")
    svc = NetworkService(cfg, db, EventBus())
    svc.open()
    svc.recover()
    try:
        yield svc
    finally:
        svc.firewall.remove_all()  # type: ignore[attr-defined]  # the real Firewall's
        for name in links():
            if name != "lo":
                svc.netlink.delete_link(name)
        svc.close()  # (the netlink thread goes with it)
        db.close()


def resolve(fd: int, name: str, qtype: str = "A") -> list[str]:
    """Ask 127.0.0.11 inside the namespace `fd`, as a process there would."""
    def ask() -> dns.message.Message:
        return dns.query.udp(dns.message.make_query(name, qtype), "127.0.0.11", timeout=10)

    answer = run_in_netns(fd, ask)
    return sorted(str(r) for rrset in answer.answer for r in rrset)


def test_two_containers_on_a_user_network(service: NetworkService, tmp_path: Path) -> None:
    net = service.create("appnet", subnet="10.83.0.0/24")
    sandboxes = [Sandbox(), Sandbox()]
    try:
        nets = []
        for i, name in enumerate(("web", "db")):
            etc = tmp_path / name
            etc.mkdir()
            for f in ("hosts", "hostname", "resolv.conf"):
                (etc / f).write_text("")
            cid = f"{i + 1:02d}" * 32
            nets.append(ContainerNet(cid, name, cid[:12], "", "appnet", etc,
                                     publish=("127.0.0.1:18080:7000",) if name == "db" else ()))
            service.register(nets[-1], EndpointRequest("appnet", aliases=(f"{name}-alias",)))
        web, db = nets

        async def main() -> None:
            for c, sb in zip(nets, sandboxes, strict=True):
                started = time.perf_counter()
                await service.attach(c, sb.pid)
                print(f"attach {c.name}: {(time.perf_counter() - started) * 1000:.1f} ms",
                      file=sys.stderr)
            fd_web, fd_db = sandboxes[0].fd, sandboxes[1].fd
            assert await asyncio.to_thread(resolve, fd_web, "db") == ["10.83.0.3"]
            assert await asyncio.to_thread(resolve, fd_db, "web-alias") == ["10.83.0.2"]
            assert await asyncio.to_thread(resolve, fd_db, "2.0.83.10.in-addr.arpa",
                                           "PTR") == ["web.appnet."]
            server = subprocess.Popen(["nsenter", "-t", str(sandboxes[1].pid), "-n",
                                       sys.executable, "-c", SERVER],
                                      stdout=subprocess.PIPE, text=True)
            try:
                assert server.stdout is not None and server.stdout.readline() == "ready\n"

                def fetch() -> bytes:
                    with socket.create_connection(("127.0.0.1", 18080), timeout=20) as conn:
                        return conn.recv(64)

                assert await asyncio.to_thread(fetch) == b"hello"
            finally:
                server.kill()
                server.wait()
            await service.detach(db.id)
            assert await asyncio.to_thread(resolve, fd_web, "db") == []  # forwarded: nothing
            await service.detach(web.id)
            await service.stop_serving()

        assert set(links(sandboxes[0].pid)) == {"lo"}
        asyncio.run(main())
        assert "nameserver 127.0.0.11" in (web.etc_dir / "resolv.conf").read_text()
        assert f"10.83.0.2\t{web.hostname}\n" in (web.etc_dir / "hosts").read_text()
        deadline = time.monotonic() + 30  # detach queues the veths' deletion
        while any(set(links(sb.pid)) != {"lo"} for sb in sandboxes):
            assert time.monotonic() < deadline, "a veth outlived its detach"
            time.sleep(0.05)
        assert set(links()) == {"lo", net.bridge}  # pyengine0 never made
        for c in nets:
            service.unregister(c.id)
        service.remove("appnet")
        assert set(links()) == {"lo"}
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        assert "18080" not in rules and "10.83.0.0/24" not in rules
    finally:
        for sb in sandboxes:
            sb.end()


def test_bridge_name_of_an_interface_that_is_not_a_bridge(service: NetworkService) -> None:
    """-o com.docker.network.bridge.name naming an existing link that is not a bridge (the
    daemon's uplink, say) is refused and the link is left as it was: no gateway address on
    it, and neither the failed create nor a later `network rm` deletes it."""
    from pyengine.errors import FailedPrecondition

    subprocess.run(["ip", "link", "add", "uplink0", "type", "veth", "peer", "name",
                    "uplink1"], check=True)
    try:
        with pytest.raises(FailedPrecondition, match="uplink0 exists and is not a bridge"):
            service.create("taken", subnet="10.84.0.0/24",
                           options={"com.docker.network.bridge.name": "uplink0"})
        assert "uplink0" in links()
        assert not any(a.get("addr_info") for a in ip_json("-4", "addr", "show", "uplink0"))
        assert [n.name for n in service.list()] == ["none", "host", "bridge"]
    finally:
        subprocess.run(["ip", "link", "del", "uplink0"], check=False)


def test_concurrent_connects_of_one_running_container(service: NetworkService,
                                                      tmp_path: Path) -> None:
    """Two `network connect`s of a running container of the default bridge to user networks at
    once: each gets an interface of its own (eth1, eth2) and one embedded DNS listener serves
    both; the exit leaves no address held."""
    for i in (1, 2):
        service.create(f"net{i}", subnet=f"10.85.{i}.0/24")
    for f in ("hosts", "hostname", "resolv.conf"):
        (tmp_path / f).write_text("")
    cid = "07" * 32
    c = ContainerNet(cid, "multi", cid[:12], "", "bridge", tmp_path)
    service.register(c, EndpointRequest("bridge"))
    sandbox = Sandbox()
    try:
        async def main() -> None:
            await service.attach(c, sandbox.pid)
            await asyncio.gather(*(service.connect(f"net{i}", c, EndpointRequest(f"net{i}"),
                                                   sandbox.pid) for i in (1, 2)))
            inside = {name: link.get("ifname") for name, link in links(sandbox.pid).items()}
            assert set(inside) == {"lo", "eth0", "eth1", "eth2"}
            assert await asyncio.to_thread(resolve, sandbox.fd, "multi") == [
                "10.85.1.2", "10.85.2.2"]
            await service.detach(cid)
            await service.stop_serving()

        asyncio.run(main())
        assert service.repo.containers_holding() == set()
    finally:
        service.unregister(cid)
        sandbox.end()
        for i in (1, 2):
            service.remove(f"net{i}")


class GatedNetlink:
    """The service's netlink, whose next add_veth waits for the test's go."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.hold = False
        self.entered = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def add_veth(self, netns_fd: int, spec: object) -> None:
        if self.hold:
            self.hold = False
            self.entered.set()
            assert self.go.wait(120), "the test never let add_veth go"
        self.inner.add_veth(netns_fd, spec)  # type: ignore[attr-defined]  # PyrouteNetlink's


def dns_listeners(pid: int) -> str:
    return subprocess.run(["nsenter", "-t", str(pid), "-n", "ss", "-Hlnu", "src",
                           "127.0.0.11"], capture_output=True, text=True, check=True).stdout


def test_exit_while_a_connect_runs(service: NetworkService, tmp_path: Path) -> None:
    """The container exits (detach) while `network connect` to a user network is making its
    veth: the connect finishes first and the detach then undoes all of it; no embedded DNS
    listener is opened after the detach (its sockets would keep the dead container's
    namespace alive) and no address stays held."""
    service.create("late", subnet="10.86.0.0/24")
    for f in ("hosts", "hostname", "resolv.conf"):
        (tmp_path / f).write_text("")
    cid = "08" * 32
    c = ContainerNet(cid, "exiting", cid[:12], "", "bridge", tmp_path)
    service.register(c, EndpointRequest("bridge"))
    gated = GatedNetlink(service.netlink)
    service._netlink = gated  # type: ignore[assignment]  # the same netlink, gated
    sandbox = Sandbox()
    try:
        async def main() -> None:
            await service.attach(c, sandbox.pid)
            gated.hold = True
            connect = asyncio.create_task(
                service.connect("late", c, EndpointRequest("late"), sandbox.pid))
            await asyncio.to_thread(gated.entered.wait)
            detach = asyncio.create_task(service.detach(cid))
            for _ in range(10):  # the detach runs as far as it can
                await asyncio.sleep(0)
            gated.go.set()
            await connect
            await detach
            assert dns_listeners(sandbox.pid) == ""
            await service.stop_serving()

        asyncio.run(main())
        assert service.repo.containers_holding() == set()
    finally:
        gated.go.set()
        service.unregister(cid)
        sandbox.end()
        service.remove("late")
