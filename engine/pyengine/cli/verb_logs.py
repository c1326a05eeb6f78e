"""pyctl logs: a container's json-file log (-f follows, --tail, -t, --since, --until)."""

from __future__ import annotations

import argparse

from pyengine.cli import logs_view
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-n", "--tail", default="all", help="lines to show from the end")
    p.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    p.add_argument("--since", default="", help="since a timestamp or relative (e.g. 42m)")
    p.add_argument("--until", default="", help="until a timestamp or relative (e.g. 42m)")
    p.set_defaults(func=run)


def parse_tail(text: str) -> int:
    """docker's --tail: a count, anything else (all, x, -1) is every line (-1)."""
    try:
        return max(int(text), -1)
    except ValueError:
        return -1


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.timestamps import parse

    tail = parse_tail(args.tail)
    stream = ctx.client.containers.Logs(containers_pb2.ContainerLogsRequest(
        id=args.container, follow=args.follow, tail=tail,
        since=parse(args.since, "since"), until=parse(args.until, "until"),  # docker's words
        stdout=True, stderr=True))
    try:
        logs_view.write(stream, args.timestamps)
    finally:
        stream.cancel()
    return 0
