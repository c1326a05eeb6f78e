"""pyctl save: save images to a tar archive."""

from __future__ import annotations

import sys

from pyengine.api import images_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.inputs import check_output_path, write_chunks

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
    check_output_path(args.output, "save image")
    stream = ctx.client.images.Save(
        images_pb2.SaveImagesRequest(references=args.images, format=args.format)
    )
    write_chunks((chunk.data for chunk in stream), args.output)
    return 0
