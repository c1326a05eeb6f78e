"""pyctl stats: live resource usage of containers (docker stats): a table redrawn every second,
or one table with --no-stream; the named containers, else every running one (-a: all)."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyengine.api import containers_pb2

DEFAULT_FORMAT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                  "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
HEADERS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
           "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
           "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}
CLEAR = "\033[2J\033[H"


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true",
                   help="show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true",
                   help="disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.add_argument("--format", default="", help="pretty-print stats using a Go template")
    p.set_defaults(func=run)


def row(s: containers_pb2.ContainerStats, shown_as: str, no_trunc: bool) -> dict[str, str]:
    """docker's stats fields for one container (`shown_as`: how it was named, for
    .Container)."""
    from pyengine.units import bytes_size, human_size

    return {
        "Container": shown_as or (s.id if no_trunc else s.id[:12]),
        "ID": s.id if no_trunc else s.id[:12],
        "Name": s.name or "--",
        "CPUPerc": f"{s.cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(s.memory_usage)} / {bytes_size(s.memory_limit)}",
        "MemPerc": f"{s.memory_percent:.2f}%",
        "NetIO": f"{human_size(s.net_rx)} / {human_size(s.net_tx)}",
        "BlockIO": f"{human_size(s.block_read)} / {human_size(s.block_write)}",
        "PIDs": str(s.pids),
    }


def _given(s: containers_pb2.ContainerStats, refs: list[str]) -> str:
    """How the user named this container, if by name or id."""
    for ref in refs:
        if s.id.startswith(ref) or s.name == ref.lstrip("/"):
            return ref
    return ""


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.output import write_rows

    refs = list(args.containers)
    if not refs and args.all:
        listed = ctx.client.containers.List(containers_pb2.ListContainersRequest(all=True))
        refs = [c.id for c in listed.containers]
    stream = ctx.client.containers.Stats(containers_pb2.ContainerStatsRequest(
        ids=refs, stream=not args.no_stream))
    try:
        for frame in stream:
            rows = [row(s, _given(s, args.containers), args.no_trunc) for s in frame.containers]
            if not args.no_stream:
                ctx.out.write(CLEAR)
            write_rows(ctx.out, rows, args.format, DEFAULT_FORMAT, HEADERS)
            ctx.out.flush()
    finally:
        stream.cancel()
    return 0
