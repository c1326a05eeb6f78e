"""pyctl network disconnect: a container leaves a network."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-f", "--force", action="store_true",
                   help="force the container to disconnect from a network")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2

    ctx.client.networks.Disconnect(networks_pb2.DisconnectNetworkRequest(
        network=args.network, container=args.container, force=args.force))
    return 0
