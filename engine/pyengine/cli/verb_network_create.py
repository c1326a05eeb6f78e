"""pyctl network create: a bridge network (docker's flags); prints its id."""

from __future__ import annotations

import argparse

from pyengine.cli.context import CliError, Context
from pyengine.cli.verb_volume_create import key_values  # --label and -o as volume create's


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NETWORK")
    p.add_argument("-d", "--driver", default="bridge", help="driver to manage the network")
    p.add_argument("--subnet", action="append", default=[],
                   help="subnet in CIDR format that represents a network segment")
    p.add_argument("--gateway", action="append", default=[],
                   help="IPv4 gateway for the master subnet")
    p.add_argument("--ip-range", action="append", default=[],
                   help="allocate container ip from a sub-range")
    p.add_argument("--internal", action="store_true",
                   help="restrict external access to the network")
    p.add_argument("--label", action="append", default=[], help="set metadata on a network")
    p.add_argument("-o", "--opt", action="append", default=[],
                   help="set driver specific options")
    p.set_defaults(func=run)


def _one(values: list[str]) -> str:
    if len(values) > 1:  # the daemon's words in docker (one IPv4 pool per network here)
        raise CliError("bridge driver doesn't support multiple subnets",
                       prefix="Error response from daemon: ")
    return values[0] if values else ""


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2

    subnet, gateway, ip_range = _one(args.subnet), _one(args.gateway), _one(args.ip_range)
    if (gateway or ip_range) and not subnet:
        raise CliError("every ip-range or gateway must have a corresponding subnet", prefix="")
    found = ctx.client.networks.Create(networks_pb2.CreateNetworkRequest(
        name=args.name, driver=args.driver, subnet=subnet, gateway=gateway,
        ip_range=ip_range, internal=args.internal, labels=key_values(args.label),
        options=key_values(args.opt)))
    ctx.out.write(found.id + "\n")
    return 0
