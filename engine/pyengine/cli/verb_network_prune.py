"""pyctl network prune: remove every user-defined network no container uses."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[],
                   help="provide filter values (e.g. 'until=<timestamp>')")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    import sys

    from pyengine.api import networks_pb2

    if not args.force:
        ctx.out.write("WARNING! This will remove all custom networks not used by at least one "
                      "container.\nAre you sure you want to continue? [y/N] ")
        ctx.out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    response = ctx.client.networks.Prune(networks_pb2.PruneNetworksRequest(filters=args.filter))
    if response.deleted:
        ctx.out.write("Deleted Networks:\n" + "".join(f"{name}\n" for name in response.deleted)
                      + "\n")
    return 0
