"""network/netlink.py and nsenter.py on the real kernel, with no engine: the module runs in a
network namespace of its own (the "daemon's", tests/fixtures/netns.py) and its "containers" are
`sleep` processes in namespaces of their own. A bridge with its gateway address and MTU, a veth
made with its peer already inside a container's namespace and configured there (eth0, MAC,
address, MTU, up, loopback up, default route), TCP both ways across it, a second endpoint
(eth1, no route), a failed endpoint leaving nothing, and teardown: deleting the host side takes
the peer with it, a container's death takes its veth, the bridges go."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.errors import EngineError
from pyengine.network.netlink import PyrouteNetlink, VethSpec
from pyengine.network.nsenter import run_in_netns

from tests.fixtures.netns import (
    MACHINE,
    module_network_namespace,  # noqa: F401 - autouse fixture
)
from tests.integration.engine_network.nl_sandbox import Sandbox, ip_json, links

pytestmark = [pytest.mark.root]

BR1, BR2 = "br-nltest1", "br-nltest2"
GW1, GW2 = "10.78.0.1", "10.79.0.1"
MTU = 1400

SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(4)
print("ready", flush=True)
c, peer = s.accept(); c.sendall(b"hello " + peer[0].encode()); c.close()
"""


@pytest.fixture
def netlink() -> Iterator[PyrouteNetlink]:
    assert os.readlink("/proc/thread-self/ns/net") != MACHINE
    nl = PyrouteNetlink()
    try:
        yield nl
    finally:
        for name in ("vh-nltest1", "vh-nltest2", "vh-nltest3", BR1, BR2):
            nl.delete_link(name)
        nl.close()


@pytest.fixture
def container() -> Iterator[Sandbox]:
    c = Sandbox()
    try:
        yield c
    finally:
        c.end()


def test_bridge_veth_traffic_and_teardown(netlink: PyrouteNetlink, container: Sandbox
                                          ) -> None:
    netlink.ensure_bridge(BR1, GW1, 24, MTU)
    netlink.ensure_bridge(BR1, GW1, 24, MTU)  # again: nothing changes, no error
    netlink.set_sysctl(f"net.ipv4.conf.{BR1}.route_localnet", "1")
    assert Path(f"/proc/sys/net/ipv4/conf/{BR1}/route_localnet").read_text().strip() == "1"
    assert "10.78.0.0/24" in netlink.networks_in_use()
    bridge = links()[BR1]
    assert bridge["mtu"] == MTU and "UP" in bridge["flags"]
    assert [a["local"] for a in ip_json("addr", "show", "dev", BR1)[0]["addr_info"]
            if a["family"] == "inet"] == [GW1]

    started = time.perf_counter()
    netlink.add_veth(container.fd, VethSpec("vh-nltest1", BR1, "eth0", "02:42:0a:4e:00:02",
                                            "10.78.0.2", 24, GW1, MTU))
    print(f"attach: {(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr)

    inside = links(container.pid)
    assert set(inside) == {"lo", "eth0"}
    eth0 = inside["eth0"]
    assert (eth0["address"], eth0["mtu"]) == ("02:42:0a:4e:00:02", MTU)
    assert "UP" in eth0["flags"] and "UP" in inside["lo"]["flags"]
    addrs = ip_json("addr", "show", "dev", "eth0", pid=container.pid)[0]["addr_info"]
    assert [(a["local"], a["prefixlen"], a.get("broadcast")) for a in addrs
            if a["family"] == "inet"] == [("10.78.0.2", 24, "10.78.0.255")]
    routes = ip_json("route", "show", pid=container.pid)
    assert {"dst": "default", "gateway": GW1, "dev": "eth0"}.items() <= \
        next(r for r in routes if r["dst"] == "default").items()
    host = links()["vh-nltest1"]
    assert host["master"] == BR1 and host["mtu"] == MTU and "UP" in host["flags"]

    # TCP from the daemon's namespace into the container...
    server = subprocess.Popen(["nsenter", "-t", str(container.pid), "-n", sys.executable,
                               "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        with socket.create_connection(("10.78.0.2", 7000), timeout=20) as conn:
            assert conn.recv(64) == f"hello {GW1}".encode()
    finally:
        server.kill()
        server.wait()
    # ... and from a socket made inside the container (nsenter.run_in_netns) to the gateway
    listener = socket.create_server((GW1, 0))
    port = listener.getsockname()[1]
    accepted: list[str] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[1][0]))
    thread.start()

    def connect() -> socket.socket:
        return socket.create_connection((GW1, port), timeout=20)

    client = run_in_netns(container.fd, connect)  # the socket stays in the container's netns
    client.close()
    thread.join(20)
    listener.close()
    assert accepted == ["10.78.0.2"]

    netlink.delete_link("vh-nltest1")
    netlink.delete_link("vh-nltest1")  # already gone: no error
    assert set(links(container.pid)) == {"lo"}
    assert "vh-nltest1" not in links()
    netlink.delete_link(BR1)
    assert set(links()) == {"lo"}


def test_second_endpoint_failure_and_a_dying_container(netlink: PyrouteNetlink,
                                                      container: Sandbox) -> None:
    netlink.ensure_bridge(BR1, GW1, 24, 1500)
    netlink.ensure_bridge(BR2, GW2, 24, 1500)
    netlink.add_veth(container.fd, VethSpec("vh-nltest1", BR1, "eth0", "02:42:0a:4e:00:02",
                                            "10.78.0.2", 24, GW1))
    netlink.add_veth(container.fd, VethSpec("vh-nltest2", BR2, "eth1", "02:42:0a:4f:00:02",
                                            "10.79.0.2", 24, ""))
    assert set(links(container.pid)) == {"lo", "eth0", "eth1"}
    defaults = [r for r in ip_json("route", "show", pid=container.pid) if r["dst"] == "default"]
    assert [r["dev"] for r in defaults] == ["eth0"]
    # the name is taken inside the container: an error naming it, and no half-made veth
    with pytest.raises(EngineError, match=r"vh-nltest3 \(eth1 in the container\)"):
        netlink.add_veth(container.fd, VethSpec("vh-nltest3", BR2, "eth1", "02:42:0a:4f:00:03",
                                                "10.79.0.3", 24, ""))
    assert "vh-nltest3" not in links()
    # an endpoint whose in-namespace part fails (a gateway off its subnet) is removed whole
    with pytest.raises(EngineError, match="configure eth2 in the container: default route: "
                                          "Network is unreachable"):
        netlink.add_veth(container.fd, VethSpec("vh-nltest3", BR2, "eth2",
                                                "02:42:0a:4f:00:04", "10.79.0.4", 24,
                                                "10.200.0.1"))
    with pytest.raises(EngineError, match="bridge br-missing does not exist"):
        netlink.add_veth(container.fd, VethSpec("vh-nltest3", "br-missing", "eth2",
                                                "02:42:0a:4f:00:04", "10.79.0.4", 24, ""))
    assert "vh-nltest3" not in links() and "eth2" not in links(container.pid)
    # the container dies: the kernel frees its namespace and both veths with it
    container.end()
    deadline = time.monotonic() + 30
    while {"vh-nltest1", "vh-nltest2"} & set(links()):
        assert time.monotonic() < deadline, "veths outlived their namespace"
        time.sleep(0.05)
    netlink.delete_link(BR1)
    netlink.delete_link(BR2)
    assert set(links()) == {"lo"}


def test_run_in_netns_returns_and_raises(container: Sandbox) -> None:
    def where() -> str:
        return os.readlink("/proc/thread-self/ns/net")

    assert run_in_netns(container.fd, where) == os.readlink(f"/proc/{container.pid}/ns/net")
    assert where() != os.readlink(f"/proc/{container.pid}/ns/net")  # this thread never moved

    def fail() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        run_in_netns(container.fd, fail)
    with pytest.raises(EngineError, match="enter network namespace"):
        run_in_netns(0, where)  # stdin is no namespace
