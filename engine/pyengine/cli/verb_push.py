"""pyctl push: push an image."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.context import Context
from pyengine.cli.progress_view import follow

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[:TAG]")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    name = args.name
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:  # docker's client names the default tag
        name += ":latest"
        if not args.quiet:
            ctx.out.write("Using default tag: latest\n")
    request = images_pb2.PushRequest(reference=args.name, auth=ctx.auth_for(args.name))
    digest = follow(ctx.client.images.Push(request), ctx.out, args.quiet)
    if args.quiet:
        ctx.out.write(f"{name}\n" if digest else "")
    return 0
