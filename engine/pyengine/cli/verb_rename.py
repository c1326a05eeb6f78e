"""pyctl rename: give a container another name."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("name", metavar="NEW_NAME")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    ctx.client.containers.Rename(containers_pb2.RenameContainerRequest(id=args.container,
                                                                       name=args.name))
    return 0
