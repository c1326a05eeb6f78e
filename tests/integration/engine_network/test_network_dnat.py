"""Published ports through the firewall's real rules (iptables-nft), with no engine: the module
runs in a network namespace of its own (the "daemon's", tests/fixtures/netns.py) and starts a
"container": a process in a second namespace, behind a veth on a bridge, serving TCP and UDP.
Through the DNAT rules (next to the host ports' reservations, which the packets never reach)
both answer from 127.0.0.1, from the host's bridge-side address and from the container itself
(hairpin); applying the state without the ports stops them; remove_all leaves no chain of ours.
Two bridges are isolated from each other, and an internal one from everything beyond it (a
third namespace, routed, plays the world outside).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyengine.errors import FailedPrecondition
from pyengine.network.firewall import BridgeRules, DnatRule, Firewall
from pyengine.network.reservations import Reservations

from tests.fixtures.netns import (
    MACHINE,
    module_network_namespace,  # noqa: F401 - autouse fixture
)

pytestmark = [pytest.mark.root]

BRIDGE, GATEWAY, CTR_IP, SUBNET = "br-fwtest", "10.77.0.1", "10.77.0.2", "10.77.0.0/24"
# a second network, for isolation
BRIDGE2, GATEWAY2, CTR_IP2, SUBNET2 = "br-fwtest2", "10.78.0.1", "10.78.0.2", "10.78.0.0/24"
# the world outside (a namespace behind a plain veth, routed, not bridged)
OUTSIDE_GW, OUTSIDE_IP = "10.79.0.1", "10.79.0.2"
TCP_PORT, UDP_PORT = 80, 53
IPTABLES = shutil.which("iptables-restore") is not None and shutil.which("iptables") is not None

# the container's servers: each answers with the address it sees the client at
SERVER = f"""
import socket, sys, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", {TCP_PORT})); t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", {UDP_PORT}))
def udp():
    while True:
        data, peer = u.recvfrom(512)
        u.sendto(b"udp " + peer[0].encode(), peer)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, peer = t.accept()
    c.sendall(b"tcp " + peer[0].encode()); c.close()
"""

# a client run inside the container: its own published ports through the gateway's address
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    print(c.recv(64).decode())
except TimeoutError:
    print("timed out")
"""


@dataclass
class Container:
    pid: int
    proc: subprocess.Popen[str]


def ip(*args: str, pid: int = 0) -> None:
    prefix = ["nsenter", "-t", str(pid), "-n"] if pid else []
    subprocess.run([*prefix, "ip", *args], check=True, capture_output=True)


def sysctl(name: str, value: str) -> None:
    # /proc/sys/net shows the namespace of the thread that opens it: the module's
    Path("/proc/sys/net", *name.split(".")).write_text(value)


def start_server(started: list[Container]) -> Container:
    """A process serving TCP and UDP in a network namespace of its own."""
    proc = subprocess.Popen(["unshare", "--net", sys.executable, "-c", SERVER],
                            stdout=subprocess.PIPE, text=True)
    container = Container(proc.pid, proc)
    started.append(container)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    ip("link", "set", "lo", "up", pid=proc.pid)
    return container


def start_outside(started: list[Container]) -> Container:
    """A server outside: behind a veth routed (not bridged) by the daemon's namespace."""
    outside = start_server(started)
    ip("link", "add", "vh-outside", "type", "veth", "peer", "name", "vc-outside")
    ip("address", "add", f"{OUTSIDE_GW}/24", "dev", "vh-outside")
    ip("link", "set", "vh-outside", "up")
    ip("link", "set", "vc-outside", "netns", str(outside.pid))
    ip("address", "add", f"{OUTSIDE_IP}/24", "dev", "vc-outside", pid=outside.pid)
    ip("link", "set", "vc-outside", "up", pid=outside.pid)
    ip("route", "add", "default", "via", OUTSIDE_GW, pid=outside.pid)
    return outside


def start_container(bridge: str, gateway: str, address: str, started: list[Container]
                    ) -> Container:
    """A server behind a veth on `bridge`."""
    container = start_server(started)
    proc = container.proc
    host_veth, ctr_veth = f"vh{bridge[2:]}", f"vc{bridge[2:]}"
    ip("link", "add", bridge, "type", "bridge")
    ip("address", "add", f"{gateway}/24", "dev", bridge)
    ip("link", "set", bridge, "up")
    ip("link", "add", host_veth, "type", "veth", "peer", "name", ctr_veth)
    ip("link", "set", host_veth, "master", bridge, "up")
    # with br_netfilter (loaded here) a hairpin DNAT is bridged back out of the port it came
    # in by: the port must allow it (netcore sets it on every container's port)
    ip("link", "set", host_veth, "type", "bridge_slave", "hairpin", "on")
    ip("link", "set", ctr_veth, "netns", str(proc.pid))
    ip("address", "add", f"{address}/24", "dev", ctr_veth, pid=proc.pid)
    ip("link", "set", ctr_veth, "up", pid=proc.pid)
    ip("route", "add", "default", "via", gateway, pid=proc.pid)
    sysctl(f"ipv4.conf.{bridge}.route_localnet", "1")
    return container


@pytest.fixture(scope="module")
def containers() -> Iterator[tuple[Container, Container, Container]]:
    assert os.readlink("/proc/thread-self/ns/net") != MACHINE  # never the machine's network
    started: list[Container] = []
    try:
        first = start_container(BRIDGE, GATEWAY, CTR_IP, started)
        second = start_container(BRIDGE2, GATEWAY2, CTR_IP2, started)
        outside = start_outside(started)
        sysctl("ipv4.ip_forward", "1")
        if IPTABLES:  # as a host running docker has it: forwarding only what our rules accept
            subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)
        yield first, second, outside
    finally:
        for container in started:
            container.proc.send_signal(signal.SIGKILL)  # its namespace and veth go with it
            container.proc.wait()
        for bridge in (BRIDGE, BRIDGE2):
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def ask_from(container: Container, host: str, port: int, timeout: float = 20) -> str:
    """What a TCP client in `container` hears from host:port ("timed out": nothing)."""
    done = subprocess.run(["nsenter", "-t", str(container.pid), "-n", sys.executable, "-c",
                           CLIENT, host, str(port), str(timeout)],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def firewall() -> Iterator[Firewall]:
    fw = Firewall()
    try:
        yield fw
    finally:
        if IPTABLES:
            fw.remove_all()


def tcp_ask(host: str, port: int) -> str:
    with socket.create_connection((host, port), timeout=20) as c:
        return c.recv(64).decode()


def udp_ask(host: str, port: int) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(20)
        u.connect((host, port))
        u.send(b"?")
        return u.recv(64).decode()


def our_chains() -> list[str]:
    saved = subprocess.run(["iptables-save"], check=True, capture_output=True, text=True).stdout
    return [line for line in saved.splitlines() if "PYENGINE" in line]


def test_published_ports_answer_and_stop(containers: tuple[Container, Container, Container],
                                         firewall: Firewall) -> None:
    container = containers[0]
    if not IPTABLES:  # probed: without iptables, apply is a clear error
        with pytest.raises(FailedPrecondition, match="cannot run iptables"):
            firewall.apply([], [])
        return
    bridge = BridgeRules(BRIDGE, SUBNET)
    reservations = Reservations()
    try:
        tcp = reservations.reserve("0.0.0.0", 0, "tcp")
        udp = reservations.reserve("0.0.0.0", 0, "udp")
        dnats = [DnatRule("0.0.0.0", tcp, "tcp", CTR_IP, TCP_PORT, BRIDGE),
                 DnatRule("", udp, "udp", CTR_IP, UDP_PORT, BRIDGE)]
        firewall.apply([bridge], dnats)
        firewall.apply([bridge], dnats)  # again: the same rules, jumps not duplicated
        assert len([r for r in our_chains() if r.startswith("-A PREROUTING")]) == 1
        # the container sees the host as its gateway (loopback traffic is masqueraded)
        for host in ("127.0.0.1", GATEWAY):
            assert tcp_ask(host, tcp) == f"tcp {GATEWAY}"
            assert udp_ask(host, udp) == f"udp {GATEWAY}"
        # the container reaches its own published port through the host (hairpin NAT)
        assert ask_from(container, GATEWAY, tcp) == f"tcp {GATEWAY}"

        # the state without the ports: nothing is DNATed (nor held) any more
        firewall.apply([bridge], [])
        reservations.release_all()
        assert not [r for r in our_chains() if "DNAT --to-destination" in r]
        with pytest.raises(ConnectionRefusedError):
            tcp_ask("127.0.0.1", tcp)
        with pytest.raises(ConnectionRefusedError):
            udp_ask("127.0.0.1", udp)
        assert tcp_ask(CTR_IP, TCP_PORT) == f"tcp {GATEWAY}"  # the container still serves
    finally:
        reservations.release_all()

    firewall.remove_all()
    assert our_chains() == []
    firewall.remove_all()  # idempotent
    assert our_chains() == []


def test_bridges_are_isolated(containers: tuple[Container, Container, Container],
                              firewall: Firewall) -> None:
    first, second, outside = containers
    if not IPTABLES:
        return  # the test above checked the error
    one, two = BridgeRules(BRIDGE, SUBNET), BridgeRules(BRIDGE2, SUBNET2)
    # with the first network alone in our rules, its container may go anywhere, the second
    # network's container included (the positive control: routing and replies work), seen
    # as the host there (masqueraded when leaving its bridge)
    firewall.apply([one], [])
    assert ask_from(first, CTR_IP2, TCP_PORT) == f"tcp {GATEWAY2}"
    # both networks: no new connection crosses (dropped: the client hears nothing), either way
    firewall.apply([one, two], [])
    assert ask_from(first, CTR_IP2, TCP_PORT, timeout=3) == "timed out"
    assert ask_from(second, CTR_IP, TCP_PORT, timeout=3) == "timed out"
    # each still goes out of the machine (masqueraded)
    assert ask_from(first, OUTSIDE_IP, TCP_PORT) == f"tcp {OUTSIDE_GW}"
    assert ask_from(second, OUTSIDE_IP, TCP_PORT) == f"tcp {OUTSIDE_GW}"
    # an internal network's container reaches nothing beyond its bridge, and nothing enters it,
    # by our rules alone (the FORWARD policy accepting everything else)
    subprocess.run(["iptables", "-w", "-P", "FORWARD", "ACCEPT"], check=True)
    firewall.apply([one, BridgeRules(BRIDGE2, SUBNET2, internal=True)], [])
    assert ask_from(first, OUTSIDE_IP, TCP_PORT) == f"tcp {OUTSIDE_GW}"
    assert ask_from(second, OUTSIDE_IP, TCP_PORT, timeout=3) == "timed out"
    assert ask_from(outside, CTR_IP2, TCP_PORT, timeout=3) == "timed out"
    assert ask_from(second, CTR_IP, TCP_PORT, timeout=3) == "timed out"
    assert ask_from(first, CTR_IP2, TCP_PORT, timeout=3) == "timed out"
