"""pyctl image prune: remove unused images."""

from __future__ import annotations

import sys

from pyengine.api import images_pb2
from pyengine.cli.context import Context
from pyengine.units import human_size

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if not args.force:
        warning = ("WARNING! This will remove all images without at least one container "
                   "associated to them." if args.all else
                   "WARNING! This will remove all dangling images.")
        ctx.out.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
        ctx.out.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return 0
    response = ctx.client.images.Prune(images_pb2.PruneImagesRequest(all=args.all))
    if response.items:
        ctx.out.write("Deleted Images:\n")
        for item in response.items:
            if item.untagged:
                ctx.out.write(f"untagged: {item.untagged}\n")
            if item.deleted:
                ctx.out.write(f"deleted: {item.deleted}\n")
        ctx.out.write("\n")
    ctx.out.write(f"Total reclaimed space: {human_size(response.space_reclaimed)}\n")
    return 0
