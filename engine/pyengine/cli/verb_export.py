"""pyctl export: a container's whole filesystem as a tar archive."""

from __future__ import annotations

import argparse
import sys

from pyengine.cli.context import CliError, Context
from pyengine.cli.inputs import check_output_path, write_chunks


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-o", "--output", default="", help="write to a file instead of stdout")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    if not args.output and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    check_output_path(args.output, "export container")
    stream = ctx.client.containers.Export(
        containers_pb2.ExportContainerRequest(id=args.container))
    write_chunks((chunk.data for chunk in stream), args.output)
    return 0
