"""pyctl rename: give a container another name."""

from __future__ import annotations

import argparse

from pyengine.cli.context import CliError, Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("name", metavar="NEW_NAME")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.wire import status as rpc

    old, new = args.container.strip(), args.name.strip()
    if not old or not new:
        raise CliError("Error: Neither old nor new names may be empty", prefix="")
    try:
        ctx.client.containers.Rename(containers_pb2.RenameContainerRequest(id=old, name=new))
    except rpc.RpcError as err:
        if ctx.is_connect_error(err):
            raise
        # docker: the daemon's error, then "Error: failed to rename container named l1", exit 1
        ctx.err.write(f"Error response from daemon: {err.details()}\n")
        raise CliError(f"Error: failed to rename container named {old}", prefix="") from err
    return 0
