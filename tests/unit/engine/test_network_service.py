"""NetworkService over a real database and fakes of what touches the kernel (netlink, the
firewall, the embedded DNS, host port reservations): builtin networks at open without touching
the namespace, create/inspect/list/remove/prune with docker's texts, endpoints registered at
create and attached at start (addresses, routes, ports, DNS, /etc files), detach and reuse,
connect/disconnect, the DNS answers, reconcile after a restart, and undoing a failed attach."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from pyengine.config import build_config
from pyengine.errors import (
    AlreadyExists,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from pyengine.events import EventBus
from pyengine.network.model import ContainerNet, EndpointRequest, LinkTarget, PoolRequest
from pyengine.network.netlink import VethSpec
from pyengine.network.service import NetworkService
from pyengine.store import Database


class FakeNetlink:
    def __init__(self, in_use: Sequence[str] = ()) -> None:
        self.links: dict[str, Any] = {}
        self.in_use = list(in_use)
        self.calls: list[str] = []
        self.fail_veth = False
        self.sysctls: dict[str, str] = {}

    def ensure_bridge(self, name: str, address: str, prefix_len: int, mtu: int,
                      address6: str = "", prefix6: int = 0) -> None:
        self.calls.append(f"bridge {name}")
        self.links[name] = (address, prefix_len, mtu, *((address6, prefix6) if address6 else ()))

    def link_exists(self, name: str) -> bool:
        return name in self.links

    def delete_link(self, name: str, wait: bool = True) -> None:
        self.calls.append(f"del {name}")
        self.links.pop(name, None)

    def add_veth(self, netns_fd: int, spec: VethSpec) -> None:
        assert netns_fd >= 0
        if self.fail_veth:
            raise EngineError(f"veth {spec.host}: boom")
        self.links[spec.host] = spec

    def networks_in_use(self) -> list[str]:
        return list(self.in_use)

    def set_sysctl(self, key: str, value: str) -> None:
        self.sysctls[key] = value


class FakeFirewall:
    def __init__(self) -> None:
        self.applied: list[tuple[list[Any], list[Any]]] = []

    def apply(self, bridges: Sequence[Any], dnats: Sequence[Any]) -> None:
        self.applied.append((list(bridges), list(dnats)))


class FakeDns:
    def __init__(self, lookup: Callable[[str, str, int], list[str] | None],
                 upstreams: Callable[[str], Sequence[tuple[str, int]]]) -> None:
        self.lookup, self.upstreams = lookup, upstreams
        self.served: set[str] = set()

    def listening(self, cid: str) -> bool:
        return cid in self.served

    async def listen(self, cid: str, netns_fd: int) -> None:
        assert cid not in self.served  # never twice for one namespace
        self.served.add(cid)

    async def close(self, cid: str) -> None:
        self.served.discard(cid)

    async def close_all(self) -> None:
        self.served.clear()


class FakeReservations:
    def __init__(self) -> None:
        self.held_: set[tuple[str, int, str]] = set()
        self.next = 32768

    def reserve(self, host_ip: str, port: int, proto: str, end: int = 0) -> int:
        if port == 0:
            port, self.next = self.next, self.next + 1
        key = (host_ip or "0.0.0.0", port, proto)
        if key in self.held_:
            raise FailedPrecondition(f"Bind for {key[0]}:{port} failed: port is already "
                                     "allocated")
        self.held_.add(key)
        return port

    def release_all(self, keys: Sequence[tuple[str, int, str]] | None = None) -> None:
        for k in list(self.held_) if keys is None else keys:
            self.held_.discard((k[0] or "0.0.0.0", k[1], k[2]))

    def held(self) -> list[tuple[str, int, str]]:
        return sorted(self.held_)

    def duplicate(self, host_ip: str, port: int, proto: str) -> None:
        return None  # no socket: the userland proxy has nothing to serve


class World:
    def __init__(self, tmp: Path, bip: str = "", in_use: Sequence[str] = (),
                 ipv6: bool = False) -> None:
        self.ipv6 = ipv6
        self.tmp = tmp
        flags: dict[str, Any] = {"data_root": str(tmp / "data")}
        if bip:
            flags["bip"] = bip
        self.cfg = build_config({}, flags)
        self.db = Database(tmp / "m.db")
        self.netlink = FakeNetlink(in_use)
        self.firewall = FakeFirewall()
        self.ports = FakeReservations()
        self.dns: FakeDns | None = None
        resolv = tmp / "resolv.conf"
        resolv.write_text("nameserver 10.0.0.53\nsearch example.org\n")
        self.svc = self.service(resolv)

    def service(self, resolv: Path) -> NetworkService:
        def dns(lookup: Any, upstreams: Any) -> FakeDns:
            self.dns = FakeDns(lookup, upstreams)
            return self.dns

        svc = NetworkService(self.cfg, self.db, EventBus(), netlink=self.netlink,
                             firewall=self.firewall, dns=dns,
                             reservations=self.ports,  # type: ignore[arg-type]  # a fake
                             host_resolv=resolv, ipv6=self.ipv6)
        svc.open()
        svc.recover()
        return svc

    def container(self, cid: str, name: str, mode: str = "bridge", **kw: Any) -> ContainerNet:
        etc = self.tmp / cid
        etc.mkdir(exist_ok=True)
        for f in ("hosts", "hostname", "resolv.conf"):
            (etc / f).write_text("")
        return ContainerNet(cid, name, cid[:12], "", mode, etc, **kw)


PID = os.getpid()  # any live process: the fakes never enter its namespace


def cid(n: int) -> str:
    return f"{n:02d}" * 32


@pytest.fixture
def w(tmp_path: Path) -> World:
    return World(tmp_path)


def test_open_records_builtins_without_touching_the_namespace(tmp_path: Path) -> None:
    w = World(tmp_path, in_use=["172.17.0.0/16"])
    nets = {n.name: n for n in w.svc.list()}
    assert set(nets) == {"bridge", "host", "none"}
    assert nets["bridge"].bridge == "pyengine0"
    assert nets["bridge"].pools[0].subnet == "172.18.0.0/16"  # 172.17 is a route here
    assert (nets["host"].driver, nets["none"].driver) == ("host", "null")
    assert w.netlink.calls == [] and w.firewall.applied == []
    again = World.service(w, tmp_path / "resolv.conf")
    assert {n.name: n.id for n in again.list()} == {n: x.id for n, x in nets.items()}


def test_bip_sets_the_default_bridge(tmp_path: Path) -> None:
    w = World(tmp_path, bip="10.55.0.1/24")
    pool = w.svc.get("bridge").pools[0]
    assert (pool.subnet, pool.gateway) == ("10.55.0.0/24", "10.55.0.1")


def test_create_inspect_list_remove(w: World) -> None:
    n = w.svc.create("front", labels={"tier": "web"})
    assert n.pools[0].subnet == "172.18.0.0/16"  # after the default bridge's
    assert n.bridge == f"br-{n.id[:12]}" and w.netlink.links[n.bridge][0] == "172.18.0.1"
    assert w.firewall.applied[-1][0][0].bridge == n.bridge
    m = w.svc.create("back", subnet="10.20.0.0/16", gateway="10.20.0.254",
                     ip_range="10.20.5.0/24", internal=True)
    doc = w.svc.inspect("back")
    assert doc["IPAM"] == {"Driver": "default", "Options": None, "Config": [
        {"Subnet": "10.20.0.0/16", "Gateway": "10.20.0.254", "IPRange": "10.20.5.0/24"}]}
    assert (doc["Name"], doc["Id"], doc["Scope"], doc["Driver"], doc["Internal"],
            doc["Containers"]) == ("back", m.id, "local", "bridge", True, {})
    # a subnet given alone is listed alone (dockerd 20.10), its gateway picked all the same
    bare = w.svc.create("bare", subnet="10.21.0.0/24")
    assert w.svc.inspect("bare")["IPAM"]["Config"] == [{"Subnet": "10.21.0.0/24"}]
    assert w.svc.get("bare").pools[0].gateway == "10.21.0.1"
    w.svc.remove(bare.id)
    assert w.svc.inspect("bridge")["IPAM"]["Config"][0]["Gateway"] == "172.17.0.1"
    assert {"EnableIPv6", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Options",
            "Labels", "Created"} <= set(doc)
    with pytest.raises(AlreadyExists, match="network with name back already exists"):
        w.svc.create("back")
    with pytest.raises(FailedPrecondition, match="Pool overlaps with other one"):
        w.svc.create("x", subnet="10.20.7.0/24")
    with pytest.raises(InvalidArgument, match="every ip-range or gateway must have"):
        w.svc.create("x", gateway="10.1.0.1")
    for bad in ("-j", "br x", "br\n-A INPUT", "../x", "a;b"):  # no link, rule or record
        with pytest.raises(InvalidArgument, match="invalid bridge name"):
            w.svc.create("x", options={"com.docker.network.bridge.name": bad})
        assert bad not in w.netlink.links
    assert "x" not in [n.name for n in w.svc.list()]
    with pytest.raises(NotFound, match='plugin "overlay" not found'):
        w.svc.create("x", driver="overlay")
    assert [x.name for x in w.svc.list(["type=custom"])] == ["front", "back"]
    assert [x.name for x in w.svc.list(["label=tier=web"])] == ["front"]
    assert [x.name for x in w.svc.list(["name=ac"])] == ["back"]
    assert w.svc.get(m.id[:5]).name == "back"
    with pytest.raises(PermissionDenied, match="bridge is a pre-defined network"):
        w.svc.remove("bridge")
    w.svc.remove("back")
    assert m.bridge not in w.netlink.links
    with pytest.raises(NotFound, match=r"^network back not found$"):
        w.svc.inspect("back")


def test_register_validates(w: World) -> None:
    w.svc.create("app")
    c = w.container(cid(1), "web")
    with pytest.raises(NotFound, match="network nope not found"):
        w.svc.register(c, EndpointRequest("nope"))
    with pytest.raises(InvalidArgument, match="user specified IP address is supported on "
                                              "user defined networks only"):
        w.svc.register(c, EndpointRequest("bridge", ip="172.17.0.9"))
    with pytest.raises(InvalidArgument, match="network-scoped alias is supported only"):
        w.svc.register(c, EndpointRequest("bridge", aliases=("x",)))
    with pytest.raises(InvalidArgument, match="does not belong to any of this network's"):
        w.svc.register(c, EndpointRequest("app", ip="10.0.0.9"))
    with pytest.raises(InvalidArgument, match="invalid"):
        w.svc.register(w.container(cid(1), "web", publish=("99999:80",)),
                       EndpointRequest("app"))
    assert w.svc.settings(c.id).networks == {}


def test_attach_detach_reuse_ports_and_files(w: World) -> None:
    a = w.container(cid(1), "web", publish=("8080:80", "127.0.0.1::53/udp"),
                    extra_hosts=("db.local:10.1.1.1",))
    b = w.container(cid(2), "other")
    w.svc.register(a, EndpointRequest("bridge"))
    w.svc.register(b, EndpointRequest("bridge"))
    asyncio.run(w.svc.attach(a, PID))
    asyncio.run(w.svc.attach(b, PID))
    assert w.netlink.links["pyengine0"] == ("172.17.0.1", 16, 1500)
    veth = w.netlink.links["veth" + w.svc.settings(a.id).networks["bridge"].endpoint_id[:7]]
    assert (veth.ifname, veth.address, veth.gateway, veth.mac, veth.bridge) == \
        ("eth0", "172.17.0.2", "172.17.0.1", "02:42:ac:11:00:02", "pyengine0")
    s = w.svc.settings(a.id)
    assert (s.networks["bridge"].ip, s.networks["bridge"].prefix_len,
            s.networks["bridge"].gateway) == ("172.17.0.2", 16, "172.17.0.1")
    assert s.sandbox_key == f"/proc/{PID}/ns/net"
    assert [(p.container_port, p.proto, p.host_ip, p.host_port) for p in s.ports] == \
        [(53, "udp", "127.0.0.1", 32768), (80, "tcp", "0.0.0.0", 8080)]
    dnats = w.firewall.applied[-1][1]
    assert {(d.host_port, d.container_ip, d.container_port, d.bridge) for d in dnats} == \
        {(8080, "172.17.0.2", 80, "pyengine0"), (32768, "172.17.0.2", 53, "pyengine0")}
    assert w.netlink.sysctls["net.ipv4.ip_forward"] == "1"
    assert w.netlink.sysctls["net.ipv4.conf.pyengine0.route_localnet"] == "1"
    hosts = (a.etc_dir / "hosts").read_text()
    assert "172.17.0.2\t" + a.id[:12] in hosts and "10.1.1.1\tdb.local" in hosts
    assert "nameserver 10.0.0.53" in (a.etc_dir / "resolv.conf").read_text()
    assert w.svc.settings(b.id).networks["bridge"].ip == "172.17.0.3"
    assert w.svc.inspect("bridge")["Containers"][a.id]["IPv4Address"] == "172.17.0.2/16"
    assert w.dns is None  # the default bridge has no embedded DNS
    # a second container asking for the same host port fails and keeps nothing
    c = w.container(cid(3), "third", publish=("8080:80",))
    w.svc.register(c, EndpointRequest("bridge"))
    with pytest.raises(FailedPrecondition, match="port is already allocated"):
        asyncio.run(w.svc.attach(c, PID))
    assert w.svc.settings(c.id).networks["bridge"].ip == ""
    asyncio.run(w.svc.detach(a.id))
    asyncio.run(w.svc.detach(a.id))  # idempotent
    assert w.ports.held() == []
    assert w.firewall.applied[-1][1] == []
    assert w.svc.settings(a.id).networks["bridge"].ip == ""
    asyncio.run(w.svc.attach(c, PID))
    assert w.svc.settings(c.id).networks["bridge"].ip == "172.17.0.2"  # a's, reused
    with pytest.raises(PermissionDenied):
        w.svc.remove("bridge")
    w.svc.unregister(c.id)
    assert w.svc.settings(c.id).networks == {} and w.ports.held() == []


def test_an_unnamed_host_ip_gets_an_ipv6_twin_on_the_same_port(tmp_path: Path) -> None:
    """dockerd 20.10's pair for -p 8080:80 and -P: 0.0.0.0 and "::" on one port number (an
    ephemeral one free on both); a named host IP binds alone; DNAT for IPv4 only (the userland
    proxy serves "::"); a host without IPv6 gets no twin."""
    w = World(tmp_path, ipv6=True)
    w.ports.held_.add(("::", 32769, "tcp"))  # -P's first ephemeral port is taken on "::"
    a = w.container(cid(1), "web", publish=("8080:80", "127.0.0.1::53/udp", "[::1]:9090:90"),
                    publish_all=True, exposed=("70/tcp",))
    w.svc.register(a, EndpointRequest("bridge"))
    asyncio.run(w.svc.attach(a, PID))
    assert [(p.container_port, p.host_ip, p.host_port) for p in w.svc.settings(a.id).ports] == [
        (53, "127.0.0.1", 32768), (70, "0.0.0.0", 32770), (70, "::", 32770),
        (80, "0.0.0.0", 8080), (80, "::", 8080), (90, "::1", 9090)]
    assert ("0.0.0.0", 32769, "tcp") not in w.ports.held()  # the number tried is let go
    dnats = w.firewall.applied[-1][1]
    assert sorted((d.host_ip, d.host_port) for d in dnats) == [
        ("0.0.0.0", 8080), ("0.0.0.0", 32770), ("127.0.0.1", 32768)]
    asyncio.run(w.svc.detach(a.id))
    assert w.ports.held() == [("::", 32769, "tcp")]
    # a fixed port taken on "::" fails the start and keeps nothing
    b = w.container(cid(2), "b", publish=("32769:80",))
    w.svc.register(b, EndpointRequest("bridge"))
    with pytest.raises(FailedPrecondition, match="Bind for :::32769 failed"):
        asyncio.run(w.svc.attach(b, PID))
    assert w.ports.held() == [("::", 32769, "tcp")]
    (tmp_path / "no-v6").mkdir()
    no_v6 = World(tmp_path / "no-v6", ipv6=False)
    c = no_v6.container(cid(3), "c", publish=("8080:80",))
    no_v6.svc.register(c, EndpointRequest("bridge"))
    asyncio.run(no_v6.svc.attach(c, PID))
    assert [p.host_ip for p in no_v6.svc.settings(c.id).ports] == ["0.0.0.0"]


def test_failed_veth_leaves_nothing(w: World) -> None:
    a = w.container(cid(1), "web", publish=("8080:80",))
    w.svc.register(a, EndpointRequest("bridge"))
    w.netlink.fail_veth = True
    with pytest.raises(EngineError, match="boom"):
        asyncio.run(w.svc.attach(a, PID))
    assert w.svc.settings(a.id).networks["bridge"].ip == "" and w.ports.held() == []
    assert w.svc.repo.containers_holding() == set()


def test_user_network_dns_connect_disconnect(w: World) -> None:
    app = w.svc.create("app", subnet="10.30.0.0/24")
    w.svc.create("other", subnet="10.31.0.0/24")
    web = w.container(cid(1), "web", mode="app")
    db = w.container(cid(2), "db", mode="app")
    w.svc.register(web, EndpointRequest("app"))
    w.svc.register(db, EndpointRequest("app", aliases=("redis",), ip="10.30.0.50"))
    asyncio.run(w.svc.attach(web, PID))
    asyncio.run(w.svc.attach(db, PID))
    assert w.dns is not None and w.dns.served == {web.id, db.id}
    assert w.svc.lookup(web.id, "db.", 1) == ["10.30.0.50"]
    assert w.svc.lookup(web.id, "REDIS", 1) == ["10.30.0.50"]
    assert w.svc.lookup(web.id, db.id[:12], 1) == ["10.30.0.50"]
    assert w.svc.lookup(web.id, "example.com.", 1) is None
    assert w.svc.lookup(web.id, "10.30.0.50", 12) == ["db.app"]
    assert w.svc.lookup(web.id, "db.app", 1) == ["10.30.0.50"]
    assert w.svc.upstreams(web.id) == [("10.0.0.53", 53)]
    assert "nameserver 127.0.0.11" in (web.etc_dir / "resolv.conf").read_text()
    # a third container on another network does not see them
    lone = w.container(cid(3), "lone", mode="other")
    w.svc.register(lone, EndpointRequest("other"))
    asyncio.run(w.svc.attach(lone, PID))
    assert w.svc.lookup(lone.id, "db", 1) is None
    # ... until connected
    asyncio.run(w.svc.connect("app", lone, EndpointRequest("app", aliases=("l",)), PID))
    assert w.svc.lookup(lone.id, "db", 1) == ["10.30.0.50"]
    assert w.svc.lookup(web.id, "l", 1) == ["10.30.0.3"]
    ends = [v for v in w.netlink.links.values() if isinstance(v, VethSpec)
            and v.address == w.svc.settings(lone.id).networks["app"].ip]
    assert [e.ifname for e in ends] == ["eth1"]
    assert len((lone.etc_dir / "hosts").read_text().split(lone.id[:12])) == 3  # two ips
    with pytest.raises(AlreadyExists):
        asyncio.run(w.svc.connect("app", lone, EndpointRequest("app"), PID))
    asyncio.run(w.svc.disconnect("app", lone, PID))
    assert w.svc.lookup(lone.id, "db", 1) is None and "app" not in w.svc.settings(lone.id).networks
    with pytest.raises(FailedPrecondition, match="is not connected to network app"):
        asyncio.run(w.svc.disconnect("app", lone, PID))
    # removed containers stop resolving
    asyncio.run(w.svc.detach(db.id))
    assert w.svc.lookup(web.id, "db", 1) is None and db.id not in w.dns.served
    assert app.id in w.svc.inspect("app")["Id"]
    # none mode cannot be connected
    with pytest.raises(FailedPrecondition, match="private \\(none\\) mode"):
        asyncio.run(w.svc.connect("app", w.container(cid(4), "n", mode="none"),
                                  EndpointRequest("app"), 0))


def test_links_add_hosts_lines(w: World) -> None:
    db = w.container(cid(2), "db")
    w.svc.register(db, EndpointRequest("bridge"))
    asyncio.run(w.svc.attach(db, PID))
    web = w.container(cid(1), "web", links=(LinkTarget("redis", "db", db.id, (), ()),))
    w.svc.register(web, EndpointRequest("bridge"))
    asyncio.run(w.svc.attach(web, PID))
    assert f"172.17.0.2\tredis {db.id[:12]} db" in (web.etc_dir / "hosts").read_text()


def test_reconcile_releases_what_stopped_containers_held(tmp_path: Path) -> None:
    w = World(tmp_path)
    a = w.container(cid(1), "a", publish=("8080:80",))
    b = w.container(cid(2), "b")
    for c in (a, b):
        w.svc.register(c, EndpointRequest("bridge"))
        asyncio.run(w.svc.attach(c, PID))
    # a daemon restart (kill -9): a new service over the same database; only b still runs
    w.ports = FakeReservations()
    again = World.service(w, tmp_path / "resolv.conf")
    asyncio.run(again.restore(b, PID))
    asyncio.run(again.reconcile({b.id}))
    assert again.settings(a.id).ports == [] and again.settings(a.id).networks["bridge"].ip == ""
    assert again.settings(b.id).networks["bridge"].ip == "172.17.0.3"
    assert w.firewall.applied[-1][1] == []


def test_prune_removes_unused_user_networks(w: World) -> None:
    w.svc.create("used")
    w.svc.create("unused", labels={"k": "v"})
    w.svc.create("kept")
    c = w.container(cid(1), "c", mode="used")
    w.svc.register(c, EndpointRequest("used"))  # created, never started: still in use
    assert w.svc.prune(["label=k"]) == ["unused"]
    assert w.svc.prune() == ["kept"]
    assert {n.name for n in w.svc.list()} == {"bridge", "host", "none", "used"}


def test_rename_answers_the_new_name(w: World) -> None:
    w.svc.create("app", subnet="10.30.0.0/24")
    a, b = w.container(cid(1), "a", mode="app"), w.container(cid(2), "b", mode="app")
    for c in (a, b):
        w.svc.register(c, EndpointRequest("app"))
        asyncio.run(w.svc.attach(c, PID))
    w.svc.rename(b.id, "bee")
    assert w.svc.lookup(a.id, "bee", 1) == ["10.30.0.3"] and w.svc.lookup(a.id, "b", 1) is None
    assert w.svc.inspect("app")["Containers"][b.id]["Name"] == "bee"


def test_none_and_host_modes_get_files_only(w: World) -> None:
    none = w.container(cid(1), "n", mode="none", extra_hosts=("x:10.1.1.1",))
    host = w.container(cid(2), "h", mode="host", dns=("10.9.9.9",))
    for c in (none, host):
        w.svc.register(c, None)
        asyncio.run(w.svc.attach(c, PID))
    assert w.netlink.calls == [] and w.firewall.applied == []
    assert "10.1.1.1\tx" in (none.etc_dir / "hosts").read_text()
    assert "nameserver 10.9.9.9" in (host.etc_dir / "resolv.conf").read_text()
    assert w.svc.settings(none.id).networks == {}


def test_interfaces_are_numbered_from_eth0_after_a_disconnect(w: World) -> None:
    w.svc.create("one", subnet="10.40.0.0/24")
    w.svc.create("two", subnet="10.41.0.0/24")
    c = w.container(cid(1), "c", mode="one")
    w.svc.register(c, EndpointRequest("one"))
    asyncio.run(w.svc.connect("two", c, EndpointRequest("two"), 0))  # not running: recorded
    asyncio.run(w.svc.disconnect("one", c, 0))
    asyncio.run(w.svc.attach(c, PID))
    [veth] = [v for v in w.netlink.links.values() if isinstance(v, VethSpec)]
    assert (veth.ifname, veth.address, veth.gateway) == ("eth0", "10.41.0.2", "10.41.0.1")


def test_none_and_host_modes_show_their_builtin_network(w: World) -> None:
    """docker: NetworkSettings.Networks has "none"/"host" with no addresses, an endpoint id
    while running, and the sandbox key."""
    for n, mode in enumerate(("none", "host"), start=1):
        c = w.container(cid(n), mode, mode=mode)
        w.svc.register(c, None)
        net = w.svc.get(mode)
        assert w.svc.settings(c.id, mode).networks[mode].endpoint_id == ""  # created
        asyncio.run(w.svc.attach(c, PID))
        s = w.svc.settings(c.id, mode)
        view = s.networks[mode]
        assert (view.network_id, view.ip, view.prefix_len, view.gateway, view.mac,
                view.aliases) == (net.id, "", 0, "", "", ())
        assert len(view.endpoint_id) == 64 and s.sandbox_key == f"/proc/{PID}/ns/net"
        assert list(s.networks) == [mode]
        asyncio.run(w.svc.detach(c.id))
        s = w.svc.settings(c.id, mode)
        assert (s.networks[mode].endpoint_id, s.sandbox_key) == ("", "")


def test_ip_needs_a_user_configured_subnet_when_connecting(w: World) -> None:
    """docker: create with --ip on a network whose subnet the daemon picked is accepted; the
    start and `network connect --ip` fail."""
    w.svc.create("picked")
    w.svc.create("given", subnet="10.33.0.0/24")
    text = "user specified IP address is supported only when connecting to networks with " \
        "user configured subnets"
    c = w.container(cid(1), "c", mode="picked")
    w.svc.register(c, EndpointRequest("picked", ip="172.18.0.50"))
    with pytest.raises(InvalidArgument, match=text):
        asyncio.run(w.svc.attach(c, PID))
    assert w.svc.repo.containers_holding() == set() and w.dns is None
    d = w.container(cid(2), "d", mode="given")
    w.svc.register(d, EndpointRequest("given", ip="10.33.0.9"))
    asyncio.run(w.svc.attach(d, PID))
    for pid in (PID, 0):
        with pytest.raises(InvalidArgument, match=text):
            asyncio.run(w.svc.connect("picked", d, EndpointRequest("picked", ip="172.18.0.7"),
                                      pid))
    asyncio.run(w.svc.connect("picked", d, EndpointRequest("picked"), PID))
    assert w.svc.settings(d.id).networks["picked"].ip == "172.18.0.2"
    again = World.service(w, w.tmp / "resolv.conf")  # recorded across a restart
    assert again.get("picked").pools[0].auto and not again.get("given").pools[0].auto


def test_removing_a_network_of_stopped_containers_fails_their_start(w: World) -> None:
    """docker 20.10: `network rm` of a network only stopped (or created) containers are on
    is allowed; their start then fails with "network X not found"."""
    w.svc.create("gone")
    c = w.container(cid(1), "c", mode="gone")
    w.svc.register(c, EndpointRequest("gone"))
    asyncio.run(w.svc.attach(c, PID))
    asyncio.run(w.svc.detach(c.id))
    w.svc.remove("gone")
    with pytest.raises(NotFound, match=r"^network gone not found$"):
        asyncio.run(w.svc.attach(c, PID))
    assert w.svc.repo.containers_holding() == set() and w.svc.settings(c.id).networks == {}


def test_ls_dangling_and_prune_until_filters(w: World) -> None:
    """docker 20.10: dangling = a user network no running container is on (builtins never);
    prune's until takes networks created before it; docker's texts for bad values."""
    w.svc.create("busy")
    w.svc.create("idle")
    c = w.container(cid(1), "c", mode="busy")
    w.svc.register(c, EndpointRequest("busy"))
    assert [n.name for n in w.svc.list(["dangling=true"])] == ["busy", "idle"]  # created
    asyncio.run(w.svc.attach(c, PID))
    assert [n.name for n in w.svc.list(["dangling=1"])] == ["idle"]
    assert sorted(n.name for n in w.svc.list(["dangling=false"])) == [
        "bridge", "busy", "host", "none"]
    with pytest.raises(InvalidArgument, match=r"^invalid value for filter 'dangling', must be "
                       r'"true" \(or "1"\), or "false" \(or "0"\)$'):
        w.svc.list(["dangling=x"])
    with pytest.raises(InvalidArgument, match='got more than one value for filter key '
                                              '"dangling"'):
        w.svc.list(["dangling=true", "dangling=false"])
    assert w.svc.prune(["until=1h"]) == []  # created just now
    with pytest.raises(InvalidArgument, match=r'^failed to parse value as time or duration: '
                                              r'"xx"$'):
        w.svc.prune(["until=xx"])
    with pytest.raises(InvalidArgument, match=r"^more than one until filter specified$"):
        w.svc.prune(["until=1h", "until=2h"])
    with pytest.raises(InvalidArgument, match=r"^Invalid filter 'dangling'$"):
        w.svc.prune(["dangling=true"])
    assert w.svc.prune(["until=2999-01-01T00:00:00Z"]) == ["idle"]


def test_ndots_option_keeps_unknown_single_labels_local(w: World) -> None:
    """docker's resolver: with ndots set in the container's options, an unknown single-label
    A/AAAA name gets an empty NOERROR (lookup []) instead of being forwarded."""
    w.svc.create("app", subnet="10.30.0.0/24")
    a = w.container(cid(1), "a", mode="app", dns_options=("ndots:2",))
    b = w.container(cid(2), "b", mode="app", dns_options=("timeout:1",))
    for c in (a, b):
        w.svc.register(c, EndpointRequest("app"))
        asyncio.run(w.svc.attach(c, PID))
    assert w.svc.lookup(a.id, "b", 1) == ["10.30.0.3"]
    assert w.svc.lookup(a.id, "nosuch", 1) == []
    assert w.svc.lookup(a.id, "nosuch.example.org", 1) is None
    assert w.svc.lookup(b.id, "nosuch", 1) is None


def test_ipv6_network_gives_addresses_gateway_route_and_hosts_lines(w: World) -> None:
    """dockerd 20.10's EnableIPv6 network with only an IPv6 pool given: an IPv4 pool picked
    too; the bridge holds both gateways; a container gets both addresses (an asked IPv6 one
    kept), the IPv6 default route, and both lines in its hosts file."""
    with pytest.raises(NotFound, match="non-overlapping IPv6 address pool"):
        w.svc.create("nopool", ipv6=True)
    n = w.svc.create("six", ipv6=True, pool6=PoolRequest("2001:389::/64"))
    doc = w.svc.inspect("six")
    assert doc["EnableIPv6"] is True and doc["IPAM"]["Options"] is None
    assert doc["IPAM"]["Config"] == [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"},
                                     {"Subnet": "2001:389::/64"}]
    assert w.netlink.links[n.bridge] == ("172.18.0.1", 16, 1500, "2001:389::1", 64)
    a = w.container(cid(1), "a", mode="six")
    b = w.container(cid(2), "b", mode="six")
    with pytest.raises(InvalidArgument, match="invalid IPv6 address: zzz"):
        w.svc.register(a, EndpointRequest("six", ip6="zzz"))
    with pytest.raises(InvalidArgument, match="does not belong"):
        w.svc.register(a, EndpointRequest("six", ip6="fd00::5"))
    with pytest.raises(InvalidArgument, match="user defined networks only"):
        w.svc.register(a, EndpointRequest("bridge", ip6="2001:389::5"))
    w.svc.register(a, EndpointRequest("six", ip6="2001:389::f00d"))
    w.svc.register(b, EndpointRequest("six"))
    asyncio.run(w.svc.attach(a, PID))
    asyncio.run(w.svc.attach(b, PID))
    view = w.svc.settings(a.id).networks["six"]
    assert (view.ip, view.ip6, view.prefix6, view.gateway6) == \
        ("172.18.0.2", "2001:389::f00d", 64, "2001:389::1")
    assert view.config is not None and view.config.ip6 == "2001:389::f00d"
    veth = w.netlink.links["veth" + view.endpoint_id[:7]]
    assert (veth.address6, veth.prefix6, veth.gateway6) == ("2001:389::f00d", 64, "2001:389::1")
    assert w.svc.settings(b.id).networks["six"].ip6 == "2001:389::2"
    hosts = (a.etc_dir / "hosts").read_text()
    assert hosts.endswith(f"172.18.0.2\t{a.id[:12]}\n2001:389::f00d\t{a.id[:12]}\n")
    member = w.svc.inspect("six")["Containers"][a.id]
    assert member["IPv6Address"] == "2001:389::f00d/64"
    assert w.firewall.applied[-1][0][-1].subnet == "172.18.0.0/16"  # no IPv6 rules
    asyncio.run(w.svc.detach(a.id))
    assert w.svc.settings(a.id).networks["six"].ip6 == ""
    # an IPv6 pool without EnableIPv6 is kept and shown, and gives no addresses
    w.svc.create("kept", pool6=PoolRequest("fd00:78::/64"))
    c = w.container(cid(3), "c", mode="kept")
    w.svc.register(c, EndpointRequest("kept"))
    asyncio.run(w.svc.attach(c, PID))
    assert w.svc.settings(c.id).networks["kept"].ip6 == ""
    with pytest.raises(FailedPrecondition, match="Pool overlaps"):
        w.svc.create("again", ipv6=True, pool6=PoolRequest("2001:389::/80"))


def test_auxiliary_addresses_are_never_handed_out(w: World) -> None:
    aux = {"a": "172.28.5.0", "b": "172.28.5.1", "c": "172.28.1.7"}
    w.svc.create("aux", subnet="172.28.0.0/16", gateway="172.28.5.254",
                 ip_range="172.28.5.0/24", aux=aux, ipam_options={"k": "v"})
    doc = w.svc.inspect("aux")["IPAM"]
    assert doc == {"Driver": "default", "Options": {"k": "v"}, "Config": [{
        "Subnet": "172.28.0.0/16", "IPRange": "172.28.5.0/24", "Gateway": "172.28.5.254",
        "AuxiliaryAddresses": aux}]}
    a = w.container(cid(1), "a", mode="aux")
    w.svc.register(a, EndpointRequest("aux"))
    asyncio.run(w.svc.attach(a, PID))
    assert w.svc.settings(a.id).networks["aux"].ip == "172.28.5.2"
    b = w.container(cid(2), "b", mode="aux")
    with pytest.raises(FailedPrecondition, match="Address already in use"):  # (dockerd: at
        w.svc.register(b, EndpointRequest("aux", ip="172.28.5.1"))  # start, its 403)
    with pytest.raises(PermissionDenied, match=r"auxiliary address: \(a:10.0.0.1\) must "
                                               r"belong to the master pool: 172.30.0.0/16"):
        w.svc.create("out", subnet="172.30.0.0/16", aux={"a": "10.0.0.1"})
    with pytest.raises(FailedPrecondition, match="Address already in use"):
        w.svc.create("gw", subnet="172.31.0.0/16", aux={"a": "172.31.0.1"})


def test_endpoint_settings_are_kept_and_link_local_ips_added(w: World) -> None:
    c = w.container(cid(1), "c")
    for bad in ("zz", "10.0.0.1"):
        with pytest.raises(InvalidArgument, match="invalid link-local IP address"):
            w.svc.register(c, EndpointRequest("bridge", link_local=(bad,)))
    w.svc.register(c, EndpointRequest("bridge", link_local=("169.254.8.8", "fe80::8"),
                                      driver_opts={"com.docker-py.setting": "on"}))
    w.svc.create("app")
    asyncio.run(w.svc.connect("app", c, EndpointRequest("app", mac="02:42:ac:11:00:99"), 0))
    stopped = w.svc.settings(c.id).networks
    assert stopped["app"].mac == "02:42:ac:11:00:99"  # as asked, before it runs (docker's)
    asyncio.run(w.svc.attach(c, PID))
    view = w.svc.settings(c.id).networks["bridge"]
    assert view.config is not None and view.config.driver_opts == {
        "com.docker-py.setting": "on"}
    veth = w.netlink.links["veth" + view.endpoint_id[:7]]
    assert veth.link_local == ("169.254.8.8", "fe80::8")
    on_app = w.svc.settings(c.id).networks["app"]
    assert w.netlink.links["veth" + on_app.endpoint_id[:7]].mac == "02:42:ac:11:00:99"


def test_network_names_are_docker_s_any_non_blank_text(w: World) -> None:
    for name in ("test 01", "a/b", "x:y", "-dash", "ü"):
        n = w.svc.create(name)
        assert w.svc.get(name).id == n.id and n.bridge == f"br-{n.id[:12]}"
        w.svc.remove(name)
    for blank in ("", "  "):
        with pytest.raises(InvalidArgument, match="invalid name: "):
            w.svc.create(blank)


def test_links_on_a_user_network_resolve_for_the_linking_container_only(w: World) -> None:
    w.svc.create("nl")
    a = w.container(cid(1), "a", mode="nl")
    other = w.container(cid(2), "other", mode="nl")
    w.svc.register(a, EndpointRequest("nl", links=("upstream:bar",)))
    w.svc.register(other, EndpointRequest("nl"))
    asyncio.run(w.svc.attach(a, PID))
    asyncio.run(w.svc.attach(other, PID))
    assert w.svc.lookup(a.id, "bar", 1) is None  # its target is not there yet
    up = w.container(cid(3), "upstream", mode="nl")
    w.svc.register(up, EndpointRequest("nl"))
    asyncio.run(w.svc.attach(up, PID))
    address = w.svc.settings(up.id).networks["nl"].ip
    assert w.svc.lookup(a.id, "bar", 1) == [address]
    assert w.svc.lookup(a.id, "BAR.nl.", 1) == [address]
    assert w.svc.lookup(other.id, "bar", 1) is None
    asyncio.run(w.svc.disconnect("nl", other, PID))
    asyncio.run(w.svc.connect("nl", other, EndpointRequest("nl", links=("upstream:baz",)),
                              PID))
    assert w.svc.lookup(other.id, "baz", 1) == [address]
    asked = w.svc.settings(other.id).networks["nl"].config
    assert asked is not None and asked.links == ("upstream:baz",)


def test_a_forced_disconnect_of_a_container_not_connected_fails(w: World) -> None:
    """dockerd 20.10: forced or not, 'container X is not connected to network Y'."""
    w.svc.create("nm")
    c = w.container(cid(1), "c")
    w.svc.register(c, EndpointRequest("bridge"))
    for pid in (0, PID):
        with pytest.raises(FailedPrecondition, match=f"container {c.id} is not connected to "
                                                     "network nm"):
            asyncio.run(w.svc.disconnect("nm", c, pid, force=True))
