"""The network tables: networks found by name, id and id prefix; endpoints in joining order;
addresses claimed atomically (concurrent starts never share one) and kept by their holder;
removal refused by the caller's check; published ports held once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pyengine.errors import AlreadyExists, FailedPrecondition, NotFound
from pyengine.network import ipam
from pyengine.network.model import Network, PortMapping
from pyengine.network.repository import EndpointRecord, NetworkRepository
from pyengine.store import Database


def net(nid: str, name: str, subnet: str = "10.7.0.0/24") -> Network:
    return Network(nid, name, "bridge", "2026-01-01T00:00:00Z", f"br-{nid[:12]}",
                   [ipam.make_pool(subnet)], labels={"a": "1"}, options={"o": "v"})


@pytest.fixture
def repo(tmp_path: Path) -> NetworkRepository:
    return NetworkRepository(Database(tmp_path / "m.db"))


def test_networks_by_name_id_and_prefix(repo: NetworkRepository) -> None:
    a, b = "ab" + "0" * 62, "ac" + "1" * 62
    repo.add_network(net(a, "one"))
    repo.add_network(net(b, "two", "10.8.0.0/24"))
    with pytest.raises(AlreadyExists, match="network with name one already exists"):
        repo.add_network(net("f" * 64, "one"))
    assert repo.find("one").id == a
    assert repo.find(b).name == "two"
    assert repo.find("ac1").name == "two"
    got = repo.find("one")
    assert got.labels == {"a": "1"} and got.options == {"o": "v"}
    assert got.pools == [ipam.make_pool("10.7.0.0/24")]
    with pytest.raises(FailedPrecondition, match="network a is ambiguous"):
        repo.find("a")
    with pytest.raises(NotFound, match=r"^network nope not found$"):
        repo.find("nope")
    with pytest.raises(NotFound):
        repo.find("a%")  # LIKE's wildcards are not wildcards here


def test_endpoints_claim_and_release(repo: NetworkRepository) -> None:
    n = net("a" * 64, "one")
    m = net("b" * 64, "two", "10.8.0.0/24")
    repo.add_network(n)
    repo.add_network(m)
    first = repo.add_endpoint(EndpointRecord("c1", n.id, "web", 0, "e1", aliases=("w",)))
    second = repo.add_endpoint(EndpointRecord("c1", m.id, "web", 0, "e2"))
    assert (first.position, second.position) == (0, 1)
    with pytest.raises(AlreadyExists):
        repo.add_endpoint(EndpointRecord("c1", n.id, "web", 0, "e3"))
    assert repo.claim("c1", n, host_ifname="vethx", ifname="eth0") == ("10.7.0.2", "")
    assert repo.claim("c1", n, host_ifname="vethx", ifname="eth0") == ("10.7.0.2", "")  # held
    [e, f] = repo.endpoints_of("c1")
    assert (e.address, e.host_ifname, e.ifname, e.aliases) == ("10.7.0.2", "vethx", "eth0",
                                                               ("w",))
    assert not f.active
    repo.add_endpoint(EndpointRecord("c2", n.id, "db", 0, "e4"))
    assert repo.claim("c2", n) == ("10.7.0.3", "")
    assert repo.containers_holding() == {"c1", "c2"}
    repo.deactivate("c1")
    assert repo.taken(n.id) == {"10.7.0.3"}
    assert repo.endpoints_of("c1")[0].host_ifname == ""
    repo.add_endpoint(EndpointRecord("c3", n.id, "x", 0, "e5"))
    assert repo.claim("c3", n) == ("10.7.0.2", "")  # reused
    repo.forget_container("c3")
    assert [e.container_id for e in repo.endpoints_on(n.id)] == ["c2", "c1"]  # by name


def test_concurrent_claims_get_distinct_addresses(repo: NetworkRepository) -> None:
    n = net("a" * 64, "one")
    repo.add_network(n)
    for i in range(20):
        repo.add_endpoint(EndpointRecord(f"c{i}", n.id, f"n{i}", 0, f"e{i}"))
    got: list[str] = []

    def claim(i: int) -> None:
        got.append(repo.claim(f"c{i}", n)[0])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=lambda a: int(a.rsplit(".", 1)[1])) == \
        [f"10.7.0.{i}" for i in range(2, 22)]


def test_remove_network_asks_the_check(repo: NetworkRepository) -> None:
    n = net("a" * 64, "one")
    repo.add_network(n)
    repo.add_endpoint(EndpointRecord("c1", n.id, "web", 0, "e1"))
    repo.claim("c1", n)

    def refuse(endpoints: list[EndpointRecord]) -> None:
        assert [e.container_id for e in endpoints] == ["c1"]
        raise FailedPrecondition("in use")

    with pytest.raises(FailedPrecondition):
        repo.remove_network(n, refuse)
    assert repo.find("one").id == n.id and repo.taken(n.id) == {"10.7.0.2"}
    repo.remove_network(n, lambda _: None)
    assert repo.networks() == [] and repo.endpoints_of("c1") == []


def test_ports_held_once(repo: NetworkRepository) -> None:
    repo.add_ports("c1", [PortMapping(80, "tcp", "0.0.0.0", 8080),
                          PortMapping(53, "udp", "0.0.0.0", 8080)])
    with pytest.raises(FailedPrecondition,
                       match=r"Bind for 0\.0\.0\.0:8080 failed: port is already allocated"):
        repo.add_ports("c2", [PortMapping(81, "tcp", "0.0.0.0", 8080)])
    assert repo.ports_of("c2") == []
    assert repo.ports_of("c1") == [PortMapping(53, "udp", "0.0.0.0", 8080),
                                   PortMapping(80, "tcp", "0.0.0.0", 8080)]
    assert list(repo.all_ports()) == ["c1"]
    repo.release_ports("c1")
    assert repo.all_ports() == {}
