"""pyctl restart: stop (the stop signal, SIGKILL after the timeout), then start."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    from pyengine.cli.verb_stop import arguments

    arguments(p)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    return each(ctx, args.containers, lambda ref: ctx.client.containers.Restart(
        containers_pb2.RestartContainerRequest(id=ref, timeout=args.time or 0,
                                               timeout_set=args.time is not None)))
