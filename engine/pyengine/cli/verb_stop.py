"""pyctl stop: the stop signal, then SIGKILL after the timeout."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def arguments(p: argparse.ArgumentParser) -> None:
    """CONTAINER... and -t (shared with restart)."""
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.add_argument("-t", "--time", type=int, default=None,
                   help="seconds to wait before killing the container")


def add(p: argparse.ArgumentParser) -> None:
    arguments(p)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    return each(ctx, args.containers, lambda ref: ctx.client.containers.Stop(
        containers_pb2.StopContainerRequest(id=ref, timeout=args.time or 0,
                                            timeout_set=args.time is not None)))
