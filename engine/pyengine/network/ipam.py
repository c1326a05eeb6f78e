"""IP address management: which address of a network's pool a container gets.

Pure functions over the addresses already held (the repository keeps them in SQLite): the
lowest free address of the pool's range (or subnet), never the network address, the gateway or
the broadcast address; a requested (--ip) address must be in the subnet and free."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from pyengine.errors import FailedPrecondition, InvalidArgument
from pyengine.network.model import IpamPool


def network_of(cidr: str) -> ipaddress.IPv4Network:
    """A subnet as the user wrote it; docker's errors for a bad one."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {cidr}") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise InvalidArgument(f"{cidr}: IPv6 networks are not supported")
    if str(net) != cidr and f"{net.network_address}/{net.prefixlen}" != cidr:
        raise InvalidArgument(f"invalid subnet {cidr}: it should be {net}")
    return net


def make_pool(subnet: str, gateway: str = "", ip_range: str = "") -> IpamPool:
    """A validated pool: the gateway defaults to the subnet's first address (docker's)."""
    net = network_of(subnet)
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid subnet {subnet}: too small for a network")
    if gateway:
        try:
            gw = ipaddress.IPv4Address(gateway)
        except ValueError:
            raise InvalidArgument(f"invalid gateway address: {gateway}") from None
        if gw not in net:
            raise InvalidArgument(f"no matching subnet for gateway {gateway}")
        if gw in (net.network_address, net.broadcast_address):
            raise InvalidArgument(f"invalid gateway address {gateway}: not a host address "
                                  f"of {subnet}")
    else:
        gw = net.network_address + 1
    if ip_range:
        rng = network_of(ip_range)
        if not rng.subnet_of(net):
            raise InvalidArgument(f"no matching subnet for range {ip_range}")
    return IpamPool(subnet=str(net), gateway=str(gw), ip_range=ip_range)


def allocate(pool: IpamPool, taken: Collection[str], requested: str = "",
             network_name: str = "") -> str:
    """An address of `pool` not in `taken`: `requested` if given, else the lowest free one.
    InvalidArgument for a requested address outside the subnet; FailedPrecondition when it
    is held or when no address is left."""
    net = ipaddress.IPv4Network(pool.subnet)
    reserved = {net.network_address, net.broadcast_address, ipaddress.IPv4Address(pool.gateway)}
    if requested:
        try:
            want = ipaddress.IPv4Address(requested)
        except ValueError:
            raise InvalidArgument(f"invalid IPv4 address: {requested}") from None
        if want not in net:
            raise InvalidArgument(f"Invalid address {requested}: It does not belong to any of "
                                  "this network's subnets")
        if want in reserved or requested in taken:
            raise FailedPrecondition("Address already in use")
        return requested
    rng = ipaddress.IPv4Network(pool.ip_range) if pool.ip_range else net
    first = int(rng.network_address)
    last = int(rng.broadcast_address)
    held = {int(ipaddress.IPv4Address(a)) for a in taken}
    held.update(int(a) for a in reserved)
    for value in range(first, last + 1):
        if value not in held:
            return str(ipaddress.IPv4Address(value))
    raise FailedPrecondition(
        "no available IPv4 addresses on this network's address pools: "
        f"{network_name or pool.subnet}")


def mac_of(address: str) -> str:
    """docker's MAC for an IPv4 address: 02:42 then the address' four bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(address).packed)


def prefix_len(subnet: str) -> int:
    return ipaddress.IPv4Network(subnet).prefixlen
