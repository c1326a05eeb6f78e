"""pyctl volume inspect: display detailed information on volumes."""

from __future__ import annotations

import json

from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("volumes", nargs="+", metavar="VOLUME")
    p.add_argument("-f", "--format", default="", help="Go template for each volume")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2
    from pyengine.cli import inspect_docs
    from pyengine.cli.wire import status as rpc

    template = inspect_docs.template_of(args.format)
    docs, missing = [], []
    for name in args.volumes:
        try:
            found = ctx.client.volumes.Inspect(volumes_pb2.InspectVolumeRequest(name=name))
        except rpc.RpcError as err:
            if ctx.is_connect_error(err) or err.code() != rpc.NOT_FOUND:
                raise
            missing.append(err.details())
            continue
        docs.append(json.loads(found.json))
    inspect_docs.write(ctx.out, docs, args.format, template)
    for message in missing:  # docker's CLI: "[]" and the daemon's "get X: no such volume"
        ctx.err.write(f"Error response from daemon: {message}\n")
    return 1 if missing else 0
