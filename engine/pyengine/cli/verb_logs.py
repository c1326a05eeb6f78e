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


def parse_when(text: str) -> int:
    """docker's --since/--until: RFC 3339, unix seconds, or a duration ago (10s, 5m, 2h)."""
    if not text:
        return 0
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return int((time.time() - float(text[:-1]) * units[text[-1]]) * 1e9)
    if text.replace(".", "", 1).isdigit():
        return int(float(text) * 1e9)
    from pyengine.containers.logs import parse_rfc3339_nano

    try:
        return parse_rfc3339_nano(text)
    except ValueError:
        raise CliError(f'invalid value for "since"/"until": {text}', usage=True) from None


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    tail = -1 if args.tail == "all" else int(args.tail)
    stream = ctx.client.containers.Logs(containers_pb2.ContainerLogsRequest(
        id=args.container, follow=args.follow, tail=tail, since=parse_when(args.since),
        until=parse_when(args.until), stdout=True, stderr=True))
    try:
        logs_view.write(stream, args.timestamps)
    finally:
        stream.cancel()
    return 0
