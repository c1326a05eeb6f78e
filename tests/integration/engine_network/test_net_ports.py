"""Published ports through pyctl and a real pyengined (in the module's network namespace, which
is the test's: 127.0.0.1 here is the daemon's host address): TCP and UDP answer on 127.0.0.1,
-P picks free ports that `pyctl port` and ps show, a taken host port fails the start with
docker's error and changes nothing, and a daemon restart or kill -9 keeps networks, addresses,
port mappings and names."""

from __future__ import annotations

import json
import socket

import pytest
from ctr_harness import ContainerEngine
from net_harness import HTTPD, http_get, inspect, ip_of, nat_rules, pid_of, udp_ask, udp_echo
from pyengine.network.reservations import ipv6_listenable

pytestmark = [pytest.mark.root]

SLEEP = ["sleep", "1000"]


def run_d(engine: ContainerEngine, *args: str) -> str:
    return engine.out("run", "-d", *args).strip()


def test_published_tcp_and_udp_ports_answer_on_the_host(engine: ContainerEngine) -> None:
    run_d(engine, "--name", "web", "-p", "8080:80", "-p", "127.0.0.1:5353:5353/udp",
          "busybox", *HTTPD)
    hostname = inspect(engine, "web")["Config"]["Hostname"]
    assert http_get("127.0.0.1", 8080).strip() == f"hello from {hostname}"
    with udp_echo(pid_of(engine, "web"), 5353):
        assert udp_ask("127.0.0.1", 5353, b"ping") == b"echo:ping"
    v6 = ipv6_listenable()  # -p 8080:80 has a "::" twin then (dockerd's; test_net_ipv6.py)
    assert engine.out("port", "web").splitlines() == [
        "80/tcp -> 0.0.0.0:8080", *(["80/tcp -> [::]:8080"] if v6 else []),
        "5353/udp -> 127.0.0.1:5353"]
    assert engine.out("port", "web", "80").split() == ["0.0.0.0:8080",
                                                       *(["[::]:8080"] if v6 else [])]
    result = engine.pyctl("port", "web", "81")
    assert result.returncode == 1
    assert "No public port '81' published for web" in result.stderr.decode()
    ports = engine.out("ps", "--format", "{{.Ports}}").strip()
    # docker groups same-number ports first, other mappings after
    assert ports == "127.0.0.1:5353->5353/udp, 0.0.0.0:8080->80/tcp" + \
        (", [::]:8080->80/tcp" if v6 else "")
    settings = inspect(engine, "web")["NetworkSettings"]
    assert settings["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "8080"}] + \
        ([{"HostIp": "::", "HostPort": "8080"}] if v6 else [])
    # the mapping goes with the container's exit
    engine.out("stop", "-t", "0", "web")
    assert not [rule for rule in nat_rules() if "8080" in rule]
    assert engine.out("port", "web") == ""


def test_containers_reach_a_published_port_through_the_host_address(
        engine: ContainerEngine) -> None:
    """Another container, and the publishing container itself (hairpin: the DNAT'd packet
    goes back out of the bridge port it came in on), reach a published port at the bridge's
    address, as through docker's proxy."""
    run_d(engine, "--name", "hair", "-p", "18081:80", "busybox", *HTTPD)
    page = http_get("127.0.0.1", 18081).strip()
    gateway = inspect(engine, "hair")["NetworkSettings"]["Gateway"]
    fetch = ["timeout", "10", "wget", "-qO-", f"http://{gateway}:18081/"]
    assert engine.out("run", "--rm", "busybox", *fetch).strip() == page
    assert engine.out("exec", "hair", *fetch).strip() == page


def test_publish_all_picks_free_ports_that_port_shows(engine: ContainerEngine) -> None:
    run_d(engine, "--name", "auto", "--expose", "80", "--expose", "7000/udp", "-P",
          "busybox", *HTTPD)
    lines = dict(line.split(" -> ") for line in engine.out("port", "auto").splitlines()
                 if " -> [::]:" not in line)  # the "::" twins: test_net_ipv6.py
    assert set(lines) == {"80/tcp", "7000/udp"}
    host, _, port = lines["80/tcp"].rpartition(":")
    assert host == "0.0.0.0" and int(port) > 1024
    assert http_get("127.0.0.1", int(port)).startswith("hello from")
    assert int(lines["7000/udp"].rpartition(":")[2]) > 1024
    ps = engine.out("ps", "--format", "{{.Ports}}").strip()
    assert f"0.0.0.0:{port}->80/tcp" in ps


def test_a_taken_host_port_fails_the_start_and_changes_nothing(engine: ContainerEngine) -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("0.0.0.0", 8181))
        holder.listen()
        rules = nat_rules()
        result = engine.pyctl("run", "-d", "--name", "late", "-p", "8181:80", "busybox",
                              *SLEEP)
        assert result.returncode != 0
        assert "Bind for 0.0.0.0:8181 failed: port is already allocated" in \
            result.stderr.decode()
        assert nat_rules() == rules
        assert inspect(engine, "late")["State"]["Running"] is False
    # the same port held by another container
    run_d(engine, "--name", "first", "-p", "8282:80", "busybox", *SLEEP)
    result = engine.pyctl("run", "-d", "--name", "second", "-p", "8282:80", "busybox", *SLEEP)
    assert "Bind for 0.0.0.0:8282 failed: port is already allocated" in result.stderr.decode()


@pytest.mark.parametrize("how", ["restart", "kill -9"])
def test_the_daemon_going_away_keeps_networks_addresses_ports_and_names(
        engine: ContainerEngine, how: str) -> None:
    engine.out("network", "create", "--subnet", "10.66.0.0/24", "keep")
    run_d(engine, "--name", "svc", "--network", "keep", "--network-alias", "api",
          "-p", "8383:80", "busybox", *HTTPD)
    run_d(engine, "--name", "cli", "--network", "keep", "busybox", *SLEEP)
    before = {name: ip_of(engine, name, "keep") for name in ("svc", "cli")}
    network = json.loads(engine.out("network", "inspect", "keep"))[0]
    if how == "restart":
        engine.stop()
    else:
        engine.kill9()
    engine.start()
    assert {name: ip_of(engine, name, "keep") for name in ("svc", "cli")} == before
    again = json.loads(engine.out("network", "inspect", "keep"))[0]
    assert (again["Id"], again["IPAM"]) == (network["Id"], network["IPAM"])
    assert http_get("127.0.0.1", 8383).startswith("hello from")
    assert engine.out("port", "svc").splitlines()[0] == "80/tcp -> 0.0.0.0:8383"
    lookup = engine.pyctl("exec", "cli", "nslookup", "-type=a", "api")
    assert before["svc"] in lookup.stdout.decode()
    # the port is still the daemon's: another container cannot take it
    result = engine.pyctl("run", "-d", "-p", "8383:80", "busybox", *SLEEP)
    assert "port is already allocated" in result.stderr.decode()
