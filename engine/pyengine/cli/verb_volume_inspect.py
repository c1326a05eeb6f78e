"""pyctl volume inspect: display detailed information on volumes."""

from __future__ import annotations

import json

from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("volumes", nargs="+", metavar="VOLUME")
    p.add_argument("-f", "--format", default="", help="Go template for each volume")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2
    from pyengine.cli.template import TemplateError, compile_template
    from pyengine.cli.wire import status as rpc

    template = None
    if args.format and args.format != "json":
        try:
            template = compile_template(args.format)
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}") from err
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
    for message in missing:  # docker's CLI: "[]" and the daemon's "get X: no such volume"
        ctx.err.write(f"Error response from daemon: {message}\n")
    return 1 if missing else 0
