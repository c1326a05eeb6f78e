"""pyctl tag: tag an image."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    ctx.client.images.Tag(images_pb2.TagImageRequest(source=args.source, target=args.target))
    return 0
