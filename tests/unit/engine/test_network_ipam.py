"""IPAM: the lowest free address of a pool's range or subnet, --ip, the gateway, network and
broadcast addresses never handed out, a full pool's error, docker's MAC."""

from __future__ import annotations

import pytest
from pyengine.errors import FailedPrecondition, InvalidArgument
from pyengine.network import ipam


def test_lowest_free_address_skips_network_gateway_and_held() -> None:
    pool = ipam.make_pool("10.9.0.0/24")
    assert pool.gateway == "10.9.0.1"
    assert ipam.allocate(pool, set()) == "10.9.0.2"
    assert ipam.allocate(pool, {"10.9.0.2", "10.9.0.3"}) == "10.9.0.4"
    # a released address (no longer in `taken`) is the lowest free one again
    assert ipam.allocate(pool, {"10.9.0.3"}) == "10.9.0.2"


def test_gateway_elsewhere_in_the_subnet_is_skipped_and_the_first_host_is_free() -> None:
    pool = ipam.make_pool("10.9.0.0/24", "10.9.0.254")
    assert ipam.allocate(pool, set()) == "10.9.0.1"
    taken = {f"10.9.0.{i}" for i in range(1, 254)}
    with pytest.raises(FailedPrecondition, match=r"no available IPv4 addresses.*: net1"):
        ipam.allocate(pool, taken, network_name="net1")  # .254 gateway, .255 broadcast


def test_ip_range_limits_allocation() -> None:
    pool = ipam.make_pool("10.9.0.0/16", ip_range="10.9.5.0/30")
    got = [ipam.allocate(pool, set())]
    got.append(ipam.allocate(pool, set(got)))
    got.append(ipam.allocate(pool, set(got)))
    got.append(ipam.allocate(pool, set(got)))
    assert got == ["10.9.5.0", "10.9.5.1", "10.9.5.2", "10.9.5.3"]
    with pytest.raises(FailedPrecondition, match="no available IPv4 addresses"):
        ipam.allocate(pool, set(got))
    # --ip may still pick any address of the subnet outside the range
    assert ipam.allocate(pool, set(got), "10.9.200.7") == "10.9.200.7"


def test_requested_address_checks() -> None:
    pool = ipam.make_pool("10.9.0.0/24")
    with pytest.raises(InvalidArgument, match="does not belong to any of this network's subnets"):
        ipam.allocate(pool, set(), "10.10.0.5")
    with pytest.raises(FailedPrecondition, match="Address already in use"):
        ipam.allocate(pool, {"10.9.0.5"}, "10.9.0.5")
    with pytest.raises(FailedPrecondition, match="Address already in use"):
        ipam.allocate(pool, set(), "10.9.0.1")  # the gateway
    with pytest.raises(InvalidArgument, match="invalid IPv4 address"):
        ipam.allocate(pool, set(), "10.9.0.300")


@pytest.mark.parametrize(("subnet", "gateway", "ip_range", "error"), [
    ("10.9.0.0/33", "", "", "invalid CIDR address: 10.9.0.0/33"),
    ("10.9.1.0/16", "", "", "invalid subnet 10.9.1.0/16: it should be 10.9.0.0/16"),
    ("10.9.0.0/24", "10.8.0.1", "", "no matching subnet for gateway 10.8.0.1"),
    ("10.9.0.0/24", "", "10.8.0.0/28", "no matching subnet for range 10.8.0.0/28"),
    ("10.9.0.0/24", "10.9.0.255", "", "not a host address"),
])
def test_bad_pools(subnet: str, gateway: str, ip_range: str, error: str) -> None:
    with pytest.raises(InvalidArgument, match=error.replace(".", r"\.")):
        ipam.make_pool(subnet, gateway, ip_range)


def test_docker_mac_from_address() -> None:
    assert ipam.mac_of("172.17.0.2") == "02:42:ac:11:00:02"
