"""pyctl network inspect: docker's JSON document of each network (or a template of it)."""

from __future__ import annotations

import argparse
import json

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--format", default="", help="Go template for each network")
    p.add_argument("-v", "--verbose", action="store_true", help="verbose output")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2
    from pyengine.cli import inspect_docs
    from pyengine.cli.wire import status as rpc

    template = inspect_docs.template_of(args.format)
    docs, missing = [], []
    for name in args.networks:
        try:
            found = ctx.client.networks.Inspect(networks_pb2.InspectNetworkRequest(id=name))
        except rpc.RpcError as err:
            if ctx.is_connect_error(err) or err.code() != rpc.NOT_FOUND:
                raise
            missing.append(name)
            continue
        docs.append(json.loads(found.json))
    inspect_docs.write(ctx.out, docs, args.format, template)
    for name in missing:  # docker 28's client: the daemon's words
        ctx.err.write(f"Error response from daemon: network {name} not found\n")
    return 1 if missing else 0
