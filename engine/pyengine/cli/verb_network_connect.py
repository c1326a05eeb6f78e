"""pyctl network connect: a container (running or not) joins a network."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--alias", action="append", default=[],
                   help="add network-scoped alias for the container")
    p.add_argument("--link", action="append", default=[], help="add link to another container")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2

    ctx.client.networks.Connect(networks_pb2.ConnectNetworkRequest(
        network=args.network, container=args.container, ip=args.ip, aliases=args.alias,
        links=args.link))
    return 0
