"""Review findings on networks through pyctl and a real pyengined (the module's namespace)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from ctr_harness import ContainerEngine
from net_harness import inspect, nat_rules
from nl_sandbox import links as daemon_links

pytestmark = [pytest.mark.root]


def test_a_removed_network_fails_the_start_of_its_stopped_container(
        engine: ContainerEngine) -> None:
    """`network rm` of a network whose containers are all stopped succeeds (docker's), and
    such a container's next start then fails with docker's "network X not found" instead of
    running without the network it was created on; one connected to another network
    meanwhile starts on that one."""
    engine.out("network", "create", "gone")
    engine.out("network", "create", "kept")
    for name in ("orphan", "moved"):
        engine.out("run", "-d", "--name", name, "--network", "gone", "busybox", "sleep",
                   "1000")
        engine.out("stop", "-t", "0", name)
    engine.out("network", "connect", "kept", "moved")
    engine.out("network", "rm", "gone")
    result = engine.pyctl("start", "orphan")
    assert result.returncode != 0
    assert "network gone not found" in result.stderr.decode()
    assert inspect(engine, "orphan")["State"]["Running"] is False
    engine.out("start", "moved")
    assert list(inspect(engine, "moved")["NetworkSettings"]["Networks"]) == ["kept"]


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
