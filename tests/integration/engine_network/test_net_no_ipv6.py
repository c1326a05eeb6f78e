"""Published ports in a daemon namespace without IPv6 (disable_ipv6 set in the module's own
namespace before its daemon starts, as on a host booted with ipv6.disable=1): dockerd 20.10
then binds 0.0.0.0 alone, with no error and no "::" entry in port, ps or inspect; an explicit
IPv6 host IP cannot be bound and the start says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine
from net_harness import HTTPD, http_get, inspect
from pyengine.network.reservations import ipv6_listenable

pytestmark = [pytest.mark.root]

SYSCTLS = [Path("/proc/sys/net/ipv6/conf/all/disable_ipv6"),
           Path("/proc/sys/net/ipv6/conf/default/disable_ipv6"),
           Path("/proc/sys/net/ipv6/conf/lo/disable_ipv6")]


@pytest.fixture(scope="module", autouse=True)
def without_ipv6(module_network_namespace: None) -> Iterator[None]:
    """IPv6 off in the module's namespace (the thread's: /proc/sys/net is per namespace),
    before the module's daemon starts; back on afterwards (the namespace goes anyway)."""
    present = [path for path in SYSCTLS if path.exists()]
    for path in present:
        path.write_text("1")
    try:
        yield
    finally:
        for path in present:
            path.write_text("0")


def test_ports_are_published_on_ipv4_alone_without_an_error(engine: ContainerEngine) -> None:
    assert not ipv6_listenable()
    engine.out("run", "-d", "--name", "web", "-p", "8080:80", "--expose", "81", "-P",
               "busybox", *HTTPD)
    lines = engine.out("port", "web").splitlines()
    assert lines[0] == "80/tcp -> 0.0.0.0:8080" and len(lines) == 2
    assert lines[1].startswith("81/tcp -> 0.0.0.0:")
    assert "::" not in engine.out("ps", "--format", "{{.Ports}}")
    assert inspect(engine, "web")["NetworkSettings"]["Ports"]["80/tcp"] == [
        {"HostIp": "0.0.0.0", "HostPort": "8080"}]
    assert http_get("127.0.0.1", 8080).startswith("hello from")
    result = engine.pyctl("run", "-d", "--name", "six", "-p", "[::1]:8282:80", "busybox",
                          *HTTPD)
    assert result.returncode != 0
    assert "Bind for ::1:8282 failed: ::1 is not an address of this host" in \
        result.stderr.decode()
