"""pyctl network rm: remove networks (each name printed when done)."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--force", action="store_true",
                   help="do not error out if the network does not exist")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2

    return each(ctx, args.networks, lambda ref: ctx.client.networks.Remove(
        networks_pb2.RemoveNetworkRequest(id=ref)), missing_ok=args.force)
