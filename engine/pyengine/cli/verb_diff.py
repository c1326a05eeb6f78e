"""pyctl diff: the changes of a container's writable layer (A added, C changed, D deleted)."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    response = ctx.client.containers.Diff(containers_pb2.DiffContainerRequest(id=args.container))
    ctx.out.write("".join(f"{c.kind} {c.path}\n" for c in response.changes))
    return 0
