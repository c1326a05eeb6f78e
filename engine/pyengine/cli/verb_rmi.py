"""pyctl rmi: remove images."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.client import RpcError
from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true", help="force removal")
    p.add_argument("--no-prune", action="store_true", help="do not delete untagged parents")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    status = 0
    for name in args.images:
        try:
            response = ctx.client.images.Remove(
                images_pb2.RemoveImageRequest(reference=name, force=args.force,
                                              no_prune=args.no_prune)
            )
        except RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            status = 1
            continue
        for item in response.items:
            if item.untagged:
                ctx.out.write(f"Untagged: {item.untagged}\n")
            if item.deleted:
                ctx.out.write(f"Deleted: {item.deleted}\n")
    return status
