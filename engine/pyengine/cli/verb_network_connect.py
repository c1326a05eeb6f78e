"""pyctl network connect: a container (running or not) joins a network."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--ip6", default="", help="IPv6 address (e.g., 2001:db8::33)")
    p.add_argument("--link-local-ip", action="append", default=[],
                   help="add a link-local address for the container")
    p.add_argument("--driver-opt", action="append", default=[],
                   help="driver options for the network")
    p.add_argument("--alias", action="append", default=[],
                   help="add network-scoped alias for the container")
    p.add_argument("--link", action="append", default=[], help="add link to another container")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_lean as api
    from pyengine.cli.verb_volume_create import key_values

    ctx.client.lean(api.NetworksService).Connect(api.ConnectNetworkRequest(
        network=args.network, container=args.container, ip=args.ip, aliases=args.alias,
        links=args.link, ip6=args.ip6, link_local_ips=args.link_local_ip,
        driver_opts=key_values(args.driver_opt)))
    return 0
