"""pyctl volume rm: remove volumes (a volume in use stays, even with -f)."""

from __future__ import annotations

from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("volumes", nargs="+", metavar="VOLUME")
    p.add_argument("-f", "--force", action="store_true",
                   help="force the removal of one or more volumes")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2
    from pyengine.cli.wire import status as rpc

    failed = False
    for name in args.volumes:
        try:
            ctx.client.volumes.Remove(volumes_pb2.RemoveVolumeRequest(name=name,
                                                                      force=args.force))
        except rpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            failed = True
            continue
        ctx.out.write(name + "\n")
    return 1 if failed else 0
