"""Published ports through the firewall's real rules (iptables-nft), with no engine: the module
runs in a network namespace of its own (the "daemon's", tests/fixtures/netns.py) and starts a
"container": a process in a second namespace, behind a veth on a bridge, serving TCP and UDP.
Through the DNAT rules (next to the host ports' reservations, which the packets never reach)
both answer from 127.0.0.1, from the host's bridge-side address and from the container itself
(hairpin); applying the state without the ports stops them; remove_all leaves no chain of ours.
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

BRIDGE, HOST_VETH, CTR_VETH = "br-fwtest", "vh-fwtest", "vc-fwtest"
GATEWAY, CTR_IP, SUBNET = "10.77.0.1", "10.77.0.2", "10.77.0.0/24"
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
HAIRPIN = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
print(c.recv(64).decode())
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


@pytest.fixture(scope="module")
def container() -> Iterator[Container]:
    assert os.readlink("/proc/thread-self/ns/net") != MACHINE  # never the machine's network
    proc = subprocess.Popen(["unshare", "--net", sys.executable, "-c", SERVER],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        ip("link", "add", BRIDGE, "type", "bridge")
        ip("address", "add", f"{GATEWAY}/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        ip("link", "add", HOST_VETH, "type", "veth", "peer", "name", CTR_VETH)
        ip("link", "set", HOST_VETH, "master", BRIDGE, "up")
        # with br_netfilter (loaded here) a hairpin DNAT is bridged back out of the port it
        # came in by: the port must allow it (netcore sets it on every container's port)
        ip("link", "set", HOST_VETH, "type", "bridge_slave", "hairpin", "on")
        ip("link", "set", CTR_VETH, "netns", str(proc.pid))
        ip("link", "set", "lo", "up", pid=proc.pid)
        ip("address", "add", f"{CTR_IP}/24", "dev", CTR_VETH, pid=proc.pid)
        ip("link", "set", CTR_VETH, "up", pid=proc.pid)
        ip("route", "add", "default", "via", GATEWAY, pid=proc.pid)
        sysctl("ipv4.ip_forward", "1")
        if IPTABLES:  # as a host running docker has it: forwarding only what our rules accept
            subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)
        sysctl(f"ipv4.conf.{BRIDGE}.route_localnet", "1")
        yield Container(proc.pid, proc)
    finally:
        proc.send_signal(signal.SIGKILL)  # its namespace, and the veth in it, go with it
        proc.wait()
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


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


def test_published_ports_answer_and_stop(container: Container, firewall: Firewall) -> None:
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
        hairpin = subprocess.run(["nsenter", "-t", str(container.pid), "-n", sys.executable,
                                  "-c", HAIRPIN, GATEWAY, str(tcp)],
                                 check=True, capture_output=True, text=True)
        assert hairpin.stdout.strip() == f"tcp {GATEWAY}"

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
