"""pyctl load: load images from a tar archive."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from pyengine.api import images_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.inputs import open_input, read_chunks

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", default="", help="read from a tar archive file")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if not args.input and sys.stdin.isatty():
        raise CliError("requested load from stdin, but stdin is empty")
    open_input(args.input)

    def requests() -> Iterator[images_pb2.LoadImagesRequest]:
        yield images_pb2.LoadImagesRequest(options=images_pb2.LoadOptions(quiet=args.quiet))
        for chunk in read_chunks(args.input):
            yield images_pb2.LoadImagesRequest(data=chunk)

    response = ctx.client.images.Load(requests())
    for name in response.loaded:
        if name.startswith("sha256:"):
            ctx.out.write(f"Loaded image ID: {name}\n")
        else:
            ctx.out.write(f"Loaded image: {name}\n")
    return 0
