"""pyctl inspect: inspect images."""

from __future__ import annotations

import json

from pyengine.api import images_pb2
from pyengine.cli.client import RpcError
from pyengine.cli.context import CliError, Context
from pyengine.cli.template import TemplateError, compile_template

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", default="", help="Go template for each object")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    template = None
    if args.format and args.format != "json":
        try:
            template = compile_template(args.format)
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}") from err
    docs, errors = [], []
    for name in args.images:
        try:
            response = ctx.client.images.Inspect(images_pb2.InspectImageRequest(reference=name))
        except RpcError as err:
            if ctx.is_connect_error(err):
                raise
            errors.append(err.details())
            continue
        docs.append(json.loads(response.json))
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
    for message in errors:
        ctx.err.write(f"Error response from daemon: {message}\n")
    return 1 if errors else 0
