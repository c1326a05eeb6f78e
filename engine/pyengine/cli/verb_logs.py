"""pyctl logs: a container's json-file log (-f follows, --tail, -t, --since, --until)."""

from __future__ import annotations

import argparse
import time

from pyengine.cli import logs_view
from pyengine.cli.context import CliError, Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-n", "--tail", default="all", help="lines to show from the end")
    p.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    p.add_argument("--since", default="", help="since a timestamp or relative (e.g. 42m)")
    p.add_argument("--until", default="", help="until a timestamp or relative (e.g. 42m)")
    p.set_defaults(func=run)


def parse_when(text: str, flag: str) -> int:
    """docker's --since/--until forms (pyengine.cli.timestamps); docker's message and exit 1
    otherwise: invalid value for "since": failed to parse value as time or duration: "bogus"."""
    if not text:
        return 0
    from pyengine.cli import timestamps  # re and datetime, only when asked

    try:
        return timestamps.parse(text, time.time_ns())
    except timestamps.BadTimestamp as err:
        raise CliError(f'invalid value for "{flag}": {err}', prefix="") from None


def parse_tail(text: str) -> int:
    """docker's --tail: a count, anything else (all, x, -1) is every line (-1)."""
    try:
        return max(int(text), -1)
    except ValueError:
        return -1


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    tail = parse_tail(args.tail)
    stream = ctx.client.containers.Logs(containers_pb2.ContainerLogsRequest(
        id=args.container, follow=args.follow, tail=tail,
        since=parse_when(args.since, "since"), until=parse_when(args.until, "until"),
        stdout=True, stderr=True))
    try:
        logs_view.write(stream, args.timestamps)
    finally:
        stream.cancel()
    return 0
