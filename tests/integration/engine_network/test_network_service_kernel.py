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
from tests.integration.engine_network.nl_sandbox import Sandbox, links

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
        svc.close()
        svc.firewall.remove_all()  # type: ignore[attr-defined]  # the real Firewall's
        for name in links():
            if name != "lo":
                svc.netlink.delete_link(name)
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
