"""pyctl volume prune: remove every local volume no container uses (docker 20.10's)."""

from __future__ import annotations

import sys

from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[],
                   help="provide filter values (e.g. 'label=<label>')")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2
    from pyengine.units import human_size

    if not args.force:
        ctx.out.write("WARNING! This will remove all local volumes not used by at least one "
                      "container.\nAre you sure you want to continue? [y/N] ")
        ctx.out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    response = ctx.client.volumes.Prune(volumes_pb2.PruneVolumesRequest(filters=args.filter))
    if response.deleted:
        ctx.out.write("Deleted Volumes:\n" + "".join(f"{n}\n" for n in response.deleted) + "\n")
    ctx.out.write(f"Total reclaimed space: {human_size(response.space_reclaimed)}\n")
    return 0
