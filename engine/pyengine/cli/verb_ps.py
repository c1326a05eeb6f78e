"""pyctl ps: list containers."""

from __future__ import annotations

import time

from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="show all containers")
    p.add_argument("-q", "--quiet", action="store_true", help="only display container IDs")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], help="filter output")
    p.add_argument("--format", default="", help="Go template for each container")
    p.add_argument("-n", "--last", type=int, default=-1,
                   help="show the n last created containers (all states)")
    p.add_argument("-l", "--latest", action="store_true",
                   help="show the latest created container (all states)")
    p.set_defaults(func=run)


def _created(seconds: int) -> str:
    from pyengine.cli.units import human_duration

    return f"{human_duration(time.time() - seconds)} ago"


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_lean as api
    from pyengine.cli.table import render

    last = 1 if args.latest else args.last
    found = list(ctx.client.lean(api.ContainersService).List(api.ListContainersRequest(
        all=args.all or last >= 0, filters=args.filter)).containers)  # newest first
    if last >= 0:
        found = found[:last]
    if args.quiet:
        for c in found:
            ctx.out.write((c.id if args.no_trunc else c.id[:12]) + "\n")
        return 0
    rows = []
    for c in found:
        command = c.command if args.no_trunc or len(c.command) <= 20 else c.command[:19] + "…"
        rows.append({
            "ID": c.id if args.no_trunc else c.id[:12], "Image": c.image,
            "Command": f'"{command}"', "CreatedAt": time.strftime(
                "%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(c.created)),
            "RunningFor": _created(c.created), "Status": c.status, "State": c.state,
            "Names": ",".join(n.lstrip("/") for n in c.names), "Ports": "",
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(c.labels.items())),
        })
    if args.format:
        from pyengine.cli.template import compile_template

        template = compile_template(args.format.removeprefix("table "))
        for row in rows:
            ctx.out.write(template.render(row) + "\n")
        return 0
    headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    ctx.out.write(render([headers, *[[r[k] for k in keys] for r in rows]]))
    return 0
