"""pyctl ps: list containers (docker's columns, filters and --format fields)."""

from __future__ import annotations

import time

from pyengine.cli.context import Context
from pyengine.cli.ports_view import displayable

TYPE_CHECKING = False  # argparse and typing are imported only for help and usage errors
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from pyengine.api import containers_lean

DEFAULT_TABLE = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
                 "{{.Ports}}\t{{.Names}}")
HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
           "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
           "Labels": "LABELS", "State": "STATE", "Size": "SIZE", "Mounts": "MOUNTS",
           "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES"}


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
    p.add_argument("-s", "--size", action="store_true", help="display total file sizes")
    p.set_defaults(func=run)


def _created(seconds: int) -> str:
    from pyengine.units import human_duration

    return f"{human_duration(time.time() - seconds)} ago"


def size_text(size_rw: int, size_root_fs: int) -> str:
    """docker's "0B (virtual 1.2MB)"."""
    from pyengine.units import human_size

    text = human_size(size_rw)
    return f"{text} (virtual {human_size(size_root_fs)})" if size_root_fs > 0 else text


def row(c: containers_lean.ContainerSummary, no_trunc: bool) -> dict[str, Any]:
    """The fields of docker's container context for --format."""
    command = c.command if no_trunc or len(c.command) <= 20 else c.command[:19] + "…"
    labels = dict(c.labels)
    return {
        "ID": c.id if no_trunc else c.id[:12], "Image": c.image,
        "Command": f'"{command}"', "CreatedAt": time.strftime(
            "%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(c.created)),
        "RunningFor": _created(c.created), "Status": c.status, "State": c.state,
        "Names": ",".join(n.lstrip("/") for n in c.names), "Ports": displayable(c.ports),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""),
        "Size": size_text(c.size_rw, c.size_root_fs), "Mounts": "",
        "Networks": ",".join(c.networks),
        "LocalVolumes": "0",
    }


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_lean as api

    last = 1 if args.latest else args.last
    fmt = args.format
    size = args.size or "{{.Size" in fmt.replace(" ", "")
    found = list(ctx.client.lean(api.ContainersService).List(api.ListContainersRequest(
        all=args.all or last >= 0, filters=args.filter, size=size)).containers)  # newest first
    if last >= 0:
        found = found[:last]
    if args.quiet:
        for c in found:
            ctx.out.write((c.id if args.no_trunc else c.id[:12]) + "\n")
        return 0
    rows = [row(c, args.no_trunc) for c in found]
    if not fmt:  # the default table without the template engine (re, json): ps starts fast
        from pyengine.cli.table import render

        keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names",
                *(["Size"] if args.size else [])]
        ctx.out.write(render([[HEADERS[k] for k in keys], *[[r[k] for k in keys]
                                                             for r in rows]]))
        return 0
    from pyengine.cli.output import write_rows

    if fmt == "json":  # a method is no JSON field
        for r in rows:
            del r["Label"]
    write_rows(ctx.out, rows, fmt, DEFAULT_TABLE, HEADERS)
    return 0
