"""pyctl inspect: inspect containers and images (a container first, as docker does)."""

from __future__ import annotations

import json

from pyengine.api import containers_pb2, images_pb2
from pyengine.cli import inspect_docs
from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="NAME|ID")
    p.add_argument("--type", default="", choices=["", "container", "image"],
                   help="only this type of object")
    p.add_argument("-f", "--format", default="", help="Go template for each object")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.cli.wire import status as rpc

    template = inspect_docs.template_of(args.format)
    docs, errors, missing = [], [], []
    kind = ("image" if getattr(args, "image_verb", None) else
            "container" if getattr(args, "container_verb", None) else args.type)
    for name in args.images:
        if kind != "image":
            try:
                found = ctx.client.containers.Inspect(
                    containers_pb2.InspectContainerRequest(id=name))
                docs.append(json.loads(found.json))
                continue
            except rpc.RpcError as err:
                if ctx.is_connect_error(err) or err.code() != rpc.NOT_FOUND:
                    raise
                if kind == "container":
                    errors.append(err.details())
                    continue
        try:
            response = ctx.client.images.Inspect(images_pb2.InspectImageRequest(reference=name))
        except rpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            if kind or err.code() != rpc.NOT_FOUND:
                errors.append(err.details())
            else:  # neither a container nor an image: docker's client-side message
                missing.append(name)
            continue
        docs.append(json.loads(response.json))
    inspect_docs.write(ctx.out, docs, args.format, template)
    for message in errors:
        ctx.err.write(f"Error response from daemon: {message}\n")
    for name in missing:
        ctx.err.write(f"Error: No such object: {name}\n")
    return 1 if errors or missing else 0
