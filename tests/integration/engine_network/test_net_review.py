"""Review findings on networks through pyctl and a real pyengined (the module's namespace)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest
from ctr_harness import ContainerEngine, restart_crashing_at
from net_harness import HTTPD, http_get, inspect, ip_of, nat_rules
from nl_sandbox import links as daemon_links

pytestmark = [pytest.mark.root]


def test_a_removed_network_fails_the_start_of_its_stopped_container(
        engine: ContainerEngine) -> None:
    """`network rm` of a network whose containers are all stopped succeeds (docker's), and
    such a container's next start then fails with docker's "network X not found" instead of
    running without the network it was created on; one connected to another network
    meanwhile fails the same way (docker 20.10 keeps the removed network in the stopped
    container's settings and its start looks it up)."""
    engine.out("network", "create", "gone")
    engine.out("network", "create", "kept")
    for name in ("orphan", "moved"):
        engine.out("run", "-d", "--name", name, "--network", "gone", "busybox", "sleep",
                   "1000")
        engine.out("stop", "-t", "0", name)
    engine.out("network", "connect", "kept", "moved")
    engine.out("network", "rm", "gone")
    for name in ("orphan", "moved"):
        result = engine.pyctl("start", name)
        assert result.returncode != 0
        assert "network gone not found" in result.stderr.decode()
        assert inspect(engine, name)["State"]["Running"] is False


def test_run_rm_on_a_user_network_leaves_nothing(engine: ContainerEngine) -> None:
    """`run --rm` on a user network with -p, an alias and an anonymous volume: once it
    returns, no container, endpoint, host veth, DNAT rule, held port or volume is left."""
    engine.out("network", "create", "brief")
    links_before = set(daemon_links())
    volumes_before = set(engine.out("volume", "ls", "-q").split())
    out = engine.out("run", "--rm", "--network", "brief", "--network-alias", "short",
                     "-p", "127.0.0.1:18383:80", "-v", "/scratch", "busybox", "sh", "-c",
                     "cat /etc/resolv.conf; ip -o -4 addr show eth0")
    assert "nameserver 127.0.0.11" in out and "eth0" in out
    assert engine.out("ps", "-aq") == ""
    assert json.loads(engine.out("network", "inspect", "brief"))[0]["Containers"] == {}
    deadline = time.monotonic() + 60  # the kernel ends a namespace's veths asynchronously
    while set(daemon_links()) != links_before:
        assert time.monotonic() < deadline, f"left: {set(daemon_links()) - links_before}"
        time.sleep(0.05)
    assert not [rule for rule in nat_rules() if "18383" in rule]
    assert set(engine.out("volume", "ls", "-q").split()) == volumes_before
    with socket.socket() as again:  # the daemon holds the host port no more
        again.bind(("127.0.0.1", 18383))
    engine.out("network", "rm", "brief")


def _crashed(engine: ContainerEngine, result: subprocess.CompletedProcess) -> None:
    assert engine.process is not None
    assert engine.process.wait() == -signal.SIGKILL, result.stderr
    engine.start()


def _settled(want: set[str]) -> None:
    deadline = time.monotonic() + 60  # the kernel ends a namespace's veths asynchronously
    while set(daemon_links()) != want:
        assert time.monotonic() < deadline, f"links: {set(daemon_links())} want {want}"
        time.sleep(0.05)


def test_kill9_during_attach_then_start(engine: ContainerEngine) -> None:
    """The daemon killed with -9 in a start's attach (veth made, address claimed, host port
    held and recorded, no DNAT rule yet): after it starts again no address, port mapping,
    rule or veth is left, and the container starts with the first address and its port."""
    engine.out("network", "create", "--subnet", "10.87.0.0/24", "crashnet")
    links_before = set(daemon_links())
    restart_crashing_at(engine, "network.attach.after-publish")
    _crashed(engine, engine.pyctl("run", "-d", "--name", "half", "--network", "crashnet",
                                  "-p", "127.0.0.1:18484:80", "busybox", *HTTPD))
    assert inspect(engine, "half")["State"]["Status"] == "created"
    assert json.loads(engine.out("network", "inspect", "crashnet"))[0]["Containers"] == {}
    assert not [rule for rule in nat_rules() if "18484" in rule]
    _settled(links_before)
    engine.out("start", "half")
    assert ip_of(engine, "half", "crashnet") == "10.87.0.2"
    assert http_get("127.0.0.1", 18484).startswith("hello from")
    engine.out("rm", "-f", "half")
    engine.out("network", "rm", "crashnet")


def test_kill9_during_connect(engine: ContainerEngine) -> None:
    """The daemon killed with -9 in `network connect` of a running container (its veth made
    and address claimed): after the restart the container is either on the network (its
    interface has the address inspect shows, others resolve its name) or not at all, and
    `network disconnect` then leaves no interface."""
    engine.out("network", "create", "--subnet", "10.88.0.0/24", "crashnet2")
    engine.out("run", "-d", "--name", "peer", "--network", "crashnet2", "busybox", "sleep",
               "1000")
    engine.out("run", "-d", "--name", "joiner", "busybox", "sleep", "1000")
    restart_crashing_at(engine, "network.connect.after-veth")
    _crashed(engine, engine.pyctl("network", "connect", "crashnet2", "joiner"))
    inside = engine.out("exec", "joiner", "ip", "-o", "-4", "addr", "show")
    networks = inspect(engine, "joiner")["NetworkSettings"]["Networks"]
    if "crashnet2" in networks:
        address = networks["crashnet2"]["IPAddress"]
        assert address and f"inet {address}/24" in inside
        answer = engine.out("exec", "peer", "nslookup", "joiner", "127.0.0.11")
        assert address in answer
        hosts = engine.out("exec", "joiner", "cat", "/etc/hosts")
        assert address in hosts
        assert "nameserver 127.0.0.11" in engine.out("exec", "joiner", "cat",
                                                     "/etc/resolv.conf")
        engine.out("network", "disconnect", "crashnet2", "joiner")
    inside = engine.out("exec", "joiner", "ip", "-o", "-4", "addr", "show")
    assert "10.88.0." not in inside
    engine.out("rm", "-f", "joiner", "peer")
    engine.out("network", "rm", "crashnet2")


def test_restart_policy_attaches_again_without_leaks(engine: ContainerEngine) -> None:
    """A container on a user network with -p restarted by on-failure:3: each run is attached
    again with the same address and host port, and once it stays exited nothing is held."""
    engine.out("network", "create", "--subnet", "10.89.0.0/24", "again")
    engine.out("run", "-d", "--name", "flappy", "--network", "again", "--restart",
               "on-failure:3", "-p", "127.0.0.1:18686:80", "busybox", "sh", "-c",
               "ip -o -4 addr show eth0 >> /tmp/log; cat /tmp/log; exit 1")
    deadline = time.monotonic() + 120
    while True:
        state = inspect(engine, "flappy")
        if state["RestartCount"] == 3 and not state["State"]["Running"] and \
                state["State"]["Status"] == "exited":
            break
        assert time.monotonic() < deadline, state["State"]
        time.sleep(0.1)
    logged = engine.out("logs", "flappy")
    assert logged.count("inet 10.89.0.2/24") >= 4, logged
    assert json.loads(engine.out("network", "inspect", "again"))[0]["Containers"] == {}
    assert not [rule for rule in nat_rules() if "18686" in rule]
    with socket.socket() as again:
        again.bind(("127.0.0.1", 18686))
    engine.out("rm", "flappy")
    engine.out("network", "rm", "again")
