"""pyctl pull: pull an image."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.context import Context
from pyengine.cli.inputs import platform
from pyengine.cli.progress_view import follow

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def _has_tag_or_digest(text: str) -> bool:
    return "@" in text or ":" in text.rsplit("/", 1)[-1]


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p.add_argument("--platform", default="", help="os/arch[/variant] to select")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if not _has_tag_or_digest(args.name) and not args.quiet:
        ctx.out.write("Using default tag: latest\n")
    request = images_pb2.PullRequest(
        reference=args.name, platform=platform(args.platform), auth=ctx.auth_for(args.name)
    )
    final = follow(ctx.client.images.Pull(request), ctx.out, args.quiet)
    if final:
        ctx.out.write(final + "\n")
    return 0
