"""Published ports on IPv6, as dockerd 20.10 has them, through pyctl and a real pyengined (in
the module's network namespace, the test's): a port published without a host IP is held on
0.0.0.0 and on [::] with one port number, and the daemon's userland proxy carries [::] to the
container (its address is IPv4 only); an explicit host IP binds that address alone; port, ps and
inspect show both bindings; rm closes the proxy and its connections and frees the port; a
daemon restart keeps [::] answering. Each test probes IPv6 in the namespace (as dockerd does:
a listener on [::1]) and checks dockerd's outcome without it too: no twin, no error."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time

import pytest
from ctr_harness import ContainerEngine
from net_harness import HTTPD, http_get, inspect, pid_of, udp_ask, udp_echo
from pyengine.network.reservations import ipv6_listenable

pytestmark = [pytest.mark.root]


def run_d(engine: ContainerEngine, *args: str) -> str:
    return engine.out("run", "-d", *args).strip()


def port_lines(engine: ContainerEngine, name: str) -> list[str]:
    return engine.out("port", name).splitlines()


def free_on(ip: str, port: int) -> bool:
    """Whether nobody listens on ip:port/tcp (a closed connection's TIME_WAIT aside, which
    the daemon's own reservations step over as well)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            probe.bind((ip, port))
            probe.listen(1)
        except OSError:
            return False
    return True


def established(port: int) -> list[str]:
    """TCP connections of the namespace from or to `port` that are still established."""
    out = subprocess.run(["ss", "-Htn", "state", "established",
                          f"( sport = :{port} or dport = :{port} )"],
                         capture_output=True, check=True, text=True).stdout
    return out.splitlines()


def test_ports_answer_on_ipv6_and_every_view_shows_both_bindings(
        engine: ContainerEngine) -> None:
    v6 = ipv6_listenable()
    run_d(engine, "--name", "web", "-p", "8080:80", "-p", "127.0.0.1:8181:80",
          "-p", "5353:5353/udp", "busybox", *HTTPD)
    page = f"hello from {inspect(engine, 'web')['Config']['Hostname']}"
    assert http_get("127.0.0.1", 8080).strip() == page
    twin = ["80/tcp -> [::]:8080"] if v6 else []
    udp_twin = ["5353/udp -> [::]:5353"] if v6 else []
    assert port_lines(engine, "web") == [  # sorted as docker's port sorts them
        "80/tcp -> 0.0.0.0:8080", "80/tcp -> 127.0.0.1:8181", *twin,
        "5353/udp -> 0.0.0.0:5353", *udp_twin]
    assert engine.out("port", "web", "5353/udp").split() == \
        ["0.0.0.0:5353", *(["[::]:5353"] if v6 else [])]
    ports = engine.out("ps", "--format", "{{.Ports}}").strip()
    assert ports == ", ".join([
        "0.0.0.0:5353->5353/udp", *([":::5353->5353/udp"] if v6 else []),
        "0.0.0.0:8080->80/tcp", "127.0.0.1:8181->80/tcp",
        *(["[::]:8080->80/tcp"] if v6 else [])])
    settings = inspect(engine, "web")["NetworkSettings"]["Ports"]
    assert settings["80/tcp"] == [
        {"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "8181"},
        *([{"HostIp": "::", "HostPort": "8080"}] if v6 else [])]
    assert free_on("::", 8181)  # an explicit IPv4 host IP has no twin
    if not v6:
        return
    assert not free_on("::", 8080)
    assert http_get("::1", 8080).strip() == page
    with udp_echo(pid_of(engine, "web"), 5353):
        assert udp_ask("::1", 5353, b"ping6") == b"echo:ping6"
        assert udp_ask("127.0.0.1", 5353, b"ping4") == b"echo:ping4"


def test_an_explicit_ipv6_host_ip_is_proxied_alone(engine: ContainerEngine) -> None:
    v6 = ipv6_listenable()
    if not v6:  # no IPv6 here: the address cannot be bound, and the start says so
        result = engine.pyctl("run", "-d", "--name", "six", "-p", "[::1]:8282:80",
                              "busybox", *HTTPD)
        assert result.returncode != 0 and "Bind for ::1:8282 failed" in result.stderr.decode()
        return
    run_d(engine, "--name", "six", "-p", "[::1]:8282:80", "busybox", *HTTPD)
    assert port_lines(engine, "six") == ["80/tcp -> [::1]:8282"]
    assert inspect(engine, "six")["NetworkSettings"]["Ports"]["80/tcp"] == [
        {"HostIp": "::1", "HostPort": "8282"}]
    assert http_get("::1", 8282).startswith("hello from")
    assert free_on("0.0.0.0", 8282)


def test_publish_all_takes_one_port_number_for_both_families(engine: ContainerEngine) -> None:
    v6 = ipv6_listenable()
    run_d(engine, "--name", "auto", "--expose", "80", "-P", "busybox", *HTTPD)
    lines = port_lines(engine, "auto")
    number = lines[0].rpartition(":")[2]
    assert lines == [f"80/tcp -> 0.0.0.0:{number}",
                     *([f"80/tcp -> [::]:{number}"] if v6 else [])]
    if v6:
        assert http_get("::1", int(number)).startswith("hello from")


def test_rm_closes_the_proxy_and_its_connections_and_frees_the_port(
        engine: ContainerEngine) -> None:
    if not ipv6_listenable():
        run_d(engine, "--name", "gone", "-p", "8383:80", "busybox", *HTTPD)
        engine.out("rm", "-f", "gone")
        assert free_on("0.0.0.0", 8383)
        return
    run_d(engine, "--name", "gone", "-p", "8383:80", "busybox", *HTTPD)
    assert http_get("::1", 8383).startswith("hello from")
    with socket.create_connection(("::1", 8383), timeout=30) as idle:
        # a connection the proxy holds open to httpd (which waits for a request)
        for _ in range(200):
            if len(established(8383)) >= 2:
                break
            time.sleep(0.05)
        assert len(established(8383)) == 2  # the client's end and the proxy's accepted one
        engine.out("rm", "-f", "gone")
        with contextlib.suppress(ConnectionResetError):
            assert idle.recv(1) == b""  # closed by the daemon, not left hanging
    assert established(8383) == []
    assert free_on("::", 8383) and free_on("0.0.0.0", 8383)


@pytest.mark.parametrize("how", ["restart", "kill -9"])
def test_the_ipv6_twin_answers_again_after_the_daemon_restarts(engine: ContainerEngine,
                                                               how: str) -> None:
    v6 = ipv6_listenable()
    run_d(engine, "--name", "kept", "-p", "8484:80", "busybox", *HTTPD)
    before = port_lines(engine, "kept")
    if how == "restart":
        engine.stop()
    else:
        engine.kill9()
    engine.start()
    assert port_lines(engine, "kept") == before
    assert http_get("127.0.0.1", 8484).startswith("hello from")
    if v6:
        assert before[-1] == "80/tcp -> [::]:8484"
        assert http_get("::1", 8484).startswith("hello from")
        # still the daemon's: another container cannot take the port on "::"
        result = engine.pyctl("run", "-d", "-p", "[::]:8484:80", "busybox", "sleep", "1000")
        assert "port is already allocated" in result.stderr.decode()
