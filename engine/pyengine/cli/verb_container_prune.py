"""pyctl container prune: remove every container that is not running."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    import sys

    from pyengine.api import containers_pb2

    if not args.force:
        ctx.out.write("WARNING! This will remove all stopped containers.\n"
                      "Are you sure you want to continue? [y/N] ")
        ctx.out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    from pyengine.units import human_size

    response = ctx.client.containers.Prune(containers_pb2.PruneContainersRequest())
    if response.deleted:
        ctx.out.write("Deleted Containers:\n" +
                      "".join(f"{cid}\n" for cid in response.deleted) + "\n")
    ctx.out.write(f"Total reclaimed space: {human_size(response.space_reclaimed)}\n")
    return 0
