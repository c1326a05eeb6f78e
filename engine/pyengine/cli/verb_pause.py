"""pyctl pause: freeze every process of running containers."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    return each(ctx, args.containers, lambda ref: ctx.client.containers.Pause(
        containers_pb2.PauseContainerRequest(id=ref)))
