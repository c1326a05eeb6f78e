"""IP address management: which address of a network's pool a container gets.

Pure functions over the addresses already held (the repository keeps them in SQLite): the
lowest free address of the pool's range (or subnet), never the network address, the gateway,
an auxiliary address or (IPv4) the broadcast address; a requested (--ip, --ip6) address must be
in the subnet and free. IPv4 and IPv6 pools alike (docker's default IPAM driver)."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping

from pyengine.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from pyengine.network.model import IpamPool

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SMALLEST = {4: 30, 6: 126}  # longest prefix a network can have: two host addresses


def is_v6(address: str) -> bool:
    return ":" in address


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def network_of(cidr: str, version: int = 0) -> Net:
    """A subnet as the user wrote it (of IP `version` when given); docker's errors for a bad
    one."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {cidr}") from None
    if version and net.version != version:
        raise InvalidArgument(f"{cidr}: not an IPv{version} subnet")
    if "/" in cidr and ipaddress.ip_interface(cidr).ip != net.network_address:  # host bits
        raise InvalidArgument(f"invalid subnet {cidr}: it should be {net}")
    return net


def _address(text: str, version: int, error: str) -> Address:
    """`text` as an address of IP `version`; InvalidArgument(error) if it is not one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(error) from None
    if address.version != version:
        raise InvalidArgument(error)
    return address


def make_pool(subnet: str, gateway: str = "", ip_range: str = "",
              aux: Mapping[str, str] | None = None, version: int = 0) -> IpamPool:
    """A validated pool: the gateway defaults to the subnet's first address (docker's);
    auxiliary addresses must be host addresses of the subnet other than the gateway."""
    net = network_of(subnet, version)
    if net.prefixlen > SMALLEST[net.version]:
        raise InvalidArgument(f"invalid subnet {subnet}: too small for a network")
    if gateway:
        gw = _address(gateway, net.version, f"invalid gateway address: {gateway}")
        if gw not in net:
            raise InvalidArgument(f"no matching subnet for gateway {gateway}")
        if gw in (net.network_address, net.broadcast_address):
            raise InvalidArgument(f"invalid gateway address {gateway}: not a host address "
                                  f"of {subnet}")
    else:
        gw = net.network_address + 1
    if ip_range:
        rng = network_of(ip_range, net.version)
        if not rng.subnet_of(net):  # type: ignore[arg-type]  # one version: checked above
            raise InvalidArgument(f"no matching subnet for range {ip_range}")
    for key, value in (aux or {}).items():  # docker 20.10's texts and statuses (403, 500)
        address = _address(value, net.version, f"invalid auxiliary address ({key}:{value})")
        if address not in net:
            raise PermissionDenied(f"auxiliary address: ({key}:{value}) must belong to the "
                                   f"master pool: {net}")
        if address == gw:
            raise FailedPrecondition(f"failed to allocate secondary ip address "
                                     f"({key}:{value}): Address already in use")
    return IpamPool(subnet=str(net), gateway=str(gw), ip_range=ip_range, aux=dict(aux or {}))


def allocate(pool: IpamPool, taken: Collection[str], requested: str = "",
             network_name: str = "") -> str:
    """An address of `pool` not in `taken` (addresses of the pool's family): `requested` if
    given, else the lowest free one. InvalidArgument for a requested address outside the
    subnet; FailedPrecondition when it is held or when no address is left."""
    net = ipaddress.ip_network(pool.subnet)
    family = f"IPv{net.version}"
    reserved = {net.network_address, ipaddress.ip_address(pool.gateway),
                *(ipaddress.ip_address(a) for a in pool.aux.values())}
    if net.version == 4:
        reserved.add(net.broadcast_address)
    if requested:
        want = _address(requested, net.version, f"invalid {family} address: {requested}")
        if want not in net:
            raise InvalidArgument(f"Invalid address {requested}: It does not belong to any of "
                                  "this network's subnets")
        if want in reserved or want in {ipaddress.ip_address(a) for a in taken}:
            raise FailedPrecondition("Address already in use")
        return str(want)
    rng = ipaddress.ip_network(pool.ip_range) if pool.ip_range else net
    first = int(rng.network_address)
    last = int(rng.broadcast_address)
    held = {int(ipaddress.ip_address(a)) for a in taken}
    held.update(int(a) for a in reserved)
    value = first
    while value <= last:  # (held is small: an IPv6 range is never walked far)
        if value not in held:
            return str(ipaddress.ip_address(value) if net.version == 4
                       else ipaddress.IPv6Address(value))
        value += 1
    raise FailedPrecondition(
        f"no available {family} addresses on this network's address pools: "
        f"{network_name or pool.subnet}")


def mac_of(address: str) -> str:
    """docker's MAC for an IPv4 address: 02:42 then the address' four bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(address).packed)


def prefix_len(subnet: str) -> int:
    return ipaddress.ip_network(subnet).prefixlen
