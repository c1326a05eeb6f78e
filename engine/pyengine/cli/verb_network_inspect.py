"""pyctl network inspect: docker's JSON document of each network (or a template of it)."""

from __future__ import annotations

import argparse
import json

from pyengine.cli.context import CliError, Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--format", default="", help="Go template for each network")
    p.add_argument("-v", "--verbose", action="store_true", help="verbose output")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2
    from pyengine.cli.template import TemplateError, compile_template
    from pyengine.cli.wire import status as rpc

    template = None
    if args.format and args.format != "json":
        try:
            template = compile_template(args.format)
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}") from err
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
    if template is not None:
        for doc in docs:
            try:
                ctx.out.write(template.render(doc) + "\n")
            except TemplateError as err:
                raise CliError(str(err)) from err
    elif args.format == "json":
        for doc in docs:
            ctx.out.write(json.dumps(doc) + "\n")
    else:
        ctx.out.write(json.dumps(docs, indent=4) + "\n")
    for name in missing:
        ctx.err.write(f"Error: No such network: {name}\n")
    return 1 if missing else 0
