"""pyrunc events [--stats] [--interval 5s] <container-id>

--stats: one {"type":"stats","id":...,"data":{...}} object and exit. Otherwise a stream, one JSON
object per line: stats every interval and {"type":"oom"} when the OOM killer strikes; ends when
the container stops."""

from __future__ import annotations

import sys
import time

from pyrunc.cli import args as a

FLAGS = [a.Flag("interval", a.VALUE, "5s", help="set the stats collection interval"),
         a.Flag("stats", a.BOOL, help="display the container's stats then exit")]


def parse_duration(text: str) -> float:
    """Go-style durations: '5s', '500ms', '1m', '1.5s'."""
    for suffix, scale in (("ms", 0.001), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0),
                          ("h", 3600.0)):
        if text.endswith(suffix):
            try:
                value = float(text[: -len(suffix)]) * scale
            except ValueError:
                break
            if value > 0:
                return value
            break
    raise a.UsageError(f"duration must be greater than 0: invalid duration {text!r}")


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("events", rest, 1)
    from pyrunc import jsonio
    from pyrunc.container import STOPPED, Container
    from pyrunc.errors import CgroupError, InvalidState

    interval = parse_duration(opts["interval"])
    container = Container.load(ctx.root, rest[0])
    cg = container.cgroup()
    if cg is None:
        raise CgroupError(f"events: container {rest[0]} has no cgroup")
    if container.status() == STOPPED:
        raise InvalidState(f"container with id {rest[0]} is not running")

    def emit(kind: str, data: dict | None = None) -> None:
        event: dict[str, object] = {"type": kind, "id": rest[0]}
        if data is not None:
            event["data"] = data
        sys.stdout.write(jsonio.dumps(event) + "\n")
        sys.stdout.flush()

    if opts["stats"]:
        emit("stats", cg.stats())
        return 0
    ooms = cg.oom_kill_count()
    next_stats = 0.0
    while True:
        container.reload()
        if container.status() == STOPPED:
            return 0
        now = time.monotonic()
        if now >= next_stats:
            emit("stats", cg.stats())
            next_stats = now + interval
        count = cg.oom_kill_count()
        if count > ooms:
            emit("oom")
            ooms = count
        time.sleep(min(0.5, interval))
