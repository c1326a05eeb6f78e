"""pyctl top: the running processes of a container, as the host's ps shows them (docker top:
`ps -ef` unless ps options follow the container)."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context

MIN_WIDTH = 20  # docker top's tabwriter: minwidth 20, padding 3


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("ps_args", nargs=argparse.REMAINDER, metavar="[ps OPTIONS]")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.table import render

    ps_args = list(args.ps_args)
    if ps_args and ps_args[0] == "--":
        ps_args = ps_args[1:]
    found = ctx.client.containers.Top(containers_pb2.TopContainerRequest(
        id=args.container, ps_args=" ".join(ps_args).split()))
    rows = [list(found.titles), *[list(p.fields) for p in found.processes]]
    ctx.out.write(render(rows, min_width=MIN_WIDTH))
    return 0
