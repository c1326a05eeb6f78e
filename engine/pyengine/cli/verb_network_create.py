"""pyctl network create: a bridge network (docker's flags); prints its id. As the docker CLI
does, --gateway, --ip-range and --aux-address go to the --subnet that holds them; one IPv4 and
one IPv6 subnet at most (the daemon's words for more)."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass, field

from pyengine.cli.context import CliError, Context
from pyengine.cli.verb_volume_create import key_values  # --label and -o as volume create's

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NETWORK")
    p.add_argument("-d", "--driver", default="bridge", help="driver to manage the network")
    p.add_argument("--subnet", action="append", default=[],
                   help="subnet in CIDR format that represents a network segment")
    p.add_argument("--gateway", action="append", default=[],
                   help="IPv4 or IPv6 gateway for the master subnet")
    p.add_argument("--ip-range", action="append", default=[],
                   help="allocate container ip from a sub-range")
    p.add_argument("--aux-address", action="append", default=[],
                   help="auxiliary IPv4 or IPv6 addresses used by network driver")
    p.add_argument("--ipv6", action="store_true", help="enable IPv6 networking")
    p.add_argument("--ipam-opt", action="append", default=[],
                   help="set IPAM driver specific options")
    p.add_argument("--internal", action="store_true",
                   help="restrict external access to the network")
    p.add_argument("--label", action="append", default=[], help="set metadata on a network")
    p.add_argument("-o", "--opt", action="append", default=[],
                   help="set driver specific options")
    p.set_defaults(func=run)


@dataclass
class Pool:
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    aux: dict[str, str] = field(default_factory=dict)


def _holder(pools: dict[int, Pool], nets: dict[int, Net], value: str,
            what: str) -> Pool:
    """The pool whose subnet holds `value` (an address or a range), the docker CLI's error
    otherwise."""
    try:
        found = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise CliError(f"invalid {what}: {value}", prefix="") from None
    net = nets.get(found.version)
    if net is None or not found.subnet_of(net):  # type: ignore[arg-type]  # one version
        raise CliError(f"no matching subnet for {what} {value}", prefix="")
    return pools[found.version]


def pools_of(args: argparse.Namespace) -> tuple[Pool, Pool]:
    """(the IPv4 pool, the IPv6 pool) the flags describe ("" subnets: none given)."""
    pools: dict[int, Pool] = {4: Pool(), 6: Pool()}
    nets: dict[int, Net] = {}
    for subnet in args.subnet:
        try:
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise CliError(f"invalid CIDR address: {subnet}",
                           prefix="Error response from daemon: ") from None
        if net.version in nets:  # the daemon's words in docker
            raise CliError("bridge driver doesn't support multiple subnets",
                           prefix="Error response from daemon: ")
        nets[net.version] = net
        pools[net.version].subnet = subnet
    if (args.gateway or args.ip_range) and not nets:
        raise CliError("every ip-range or gateway must have a corresponding subnet", prefix="")
    for gateway in args.gateway:
        _holder(pools, nets, gateway, "gateway").gateway = gateway
    for ip_range in args.ip_range:
        _holder(pools, nets, ip_range, "range").ip_range = ip_range
    for item in args.aux_address:
        name, sep, address = item.partition("=")
        if not sep:
            raise CliError(f"invalid aux-address: {item}", prefix="")
        _holder(pools, nets, address, "aux-address").aux[name] = address
    return pools[4], pools[6]


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_lean as api

    v4, v6 = pools_of(args)
    found = ctx.client.lean(api.NetworksService).Create(api.CreateNetworkRequest(
        name=args.name, driver=args.driver, subnet=v4.subnet, gateway=v4.gateway,
        ip_range=v4.ip_range, internal=args.internal, labels=key_values(args.label),
        options=key_values(args.opt), ipv6=args.ipv6, subnet6=v6.subnet, gateway6=v6.gateway,
        ip_range6=v6.ip_range, aux_addresses=v4.aux, aux_addresses6=v6.aux,
        ipam_options=key_values(args.ipam_opt)))
    ctx.out.write(found.id + "\n")
    return 0
