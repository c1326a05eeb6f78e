"""pyctl save: save images to a tar archive."""

from __future__ import annotations

import sys

from pyengine.api import images_pb2
from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", default="", help="write to a file instead of stdout")
    p.add_argument("--format", default="docker", choices=("docker", "oci"),
                   help="archive format (default docker)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if not args.output and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    stream = ctx.client.images.Save(
        images_pb2.SaveImagesRequest(references=args.images, format=args.format)
    )
    if args.output:
        import os

        tmp = args.output + ".pyctl-tmp"
        try:
            with open(tmp, "wb") as out:
                for chunk in stream:
                    out.write(chunk.data)
            os.replace(tmp, args.output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        stdout = sys.stdout.buffer
        for chunk in stream:
            stdout.write(chunk.data)
        stdout.flush()
    return 0
