"""Subnets for bridge networks: docker's default address pools and the overlap checks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

from pyengine.errors import FailedPrecondition


def default_pools() -> Iterator[ipaddress.IPv4Network]:
    """docker's defaults: 172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/16 as /20s."""
    for second in range(17, 32):
        yield ipaddress.IPv4Network(f"172.{second}.0.0/16")
    yield from ipaddress.IPv4Network("192.168.0.0/16").subnets(new_prefix=20)


def _overlaps(net: ipaddress.IPv4Network | ipaddress.IPv6Network, others: Sequence[str]
              ) -> bool:
    for other in others:
        try:
            o = ipaddress.ip_network(other, strict=False)
        except ValueError:
            continue
        if o.version == net.version and net.overlaps(o):
            return True
    return False


def choose(taken: Sequence[str], in_use: Sequence[str]) -> str:
    """The first default pool overlapping neither another network's subnet (`taken`) nor a
    route or address of the daemon's namespace (`in_use`)."""
    for net in default_pools():
        if not _overlaps(net, taken) and not _overlaps(net, in_use):
            return str(net)
    raise FailedPrecondition("could not find an available, non-overlapping IPv4 address pool "
                             "among the defaults to assign to the network")


def check_free(subnet: str, taken: Sequence[str]) -> None:
    """A user's --subnet (IPv4 or IPv6) must not overlap another network's (docker's
    message)."""
    if _overlaps(ipaddress.ip_network(subnet), taken):
        raise FailedPrecondition("Pool overlaps with other one on this address space")
