"""pyctl builder du: the build cache's records and sizes (buildx du's table), and the build
cache rows `system df` shares."""

from __future__ import annotations

from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--verbose", action="store_true", help="all the fields of every record")
    p.set_defaults(func=run)


def epoch(rfc3339: str) -> int:
    """Seconds since the epoch of an RFC 3339 time; 0 when empty or unreadable."""
    if not rfc3339:
        return 0
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def summary(records: Sequence[Any]) -> dict[str, str]:
    """docker's "Build Cache" row of `system df`: shared records are not counted in the size,
    and what an image uses is not reclaimable."""
    from pyengine.units import human_size

    size = sum(r.size for r in records if not r.shared)
    in_use = sum(r.size for r in records if r.in_use and not r.shared)
    return {"Type": "Build Cache", "TotalCount": str(len(records)),
            "Active": str(sum(1 for r in records if r.in_use)), "Size": human_size(size),
            "Reclaimable": human_size(size - in_use)}


def detail_rows(records: Sequence[Any]) -> list[dict[str, str]]:
    """`system df -v`'s build cache table (docker's columns)."""
    from pyengine.units import human_size, since

    return [{"ID": r.id[:12] + ("*" if r.in_use else ""), "CacheType": r.kind,
             "Size": human_size(r.size), "CreatedSince": since(epoch(r.created_at)),
             "LastUsedSince": since(epoch(r.last_used_at)) if r.last_used_at else "",
             "UsageCount": str(r.usage_count), "Shared": "true" if r.shared else "false"}
            for r in records]


DETAIL_TABLE = ("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}"
                "\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}")
DETAIL_HEADERS = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "CreatedSince": "CREATED",
                  "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import build_lean as api
    from pyengine.cli.output import write_rows
    from pyengine.units import human_size, since

    usage = ctx.client.lean(api.BuildsService).Usage(api.BuildCacheUsageRequest())
    records = sorted(usage.records, key=lambda r: (r.in_use, r.last_used_at), reverse=True)
    if args.verbose:
        for r in records:
            ctx.out.write(
                f"ID:\t\t{r.id}\nCreated at:\t{r.created_at}\nType:\t\t{r.kind}\n"
                f"Description:\t{r.description}\nUsage count:\t{r.usage_count}\n"
                f"Last used:\t{since(epoch(r.last_used_at))}\n"
                f"Size:\t\t{human_size(r.size)}\nIn use:\t\t{str(r.in_use).lower()}\n"
                f"Shared:\t\t{str(r.shared).lower()}\n\n")
    else:
        rows = [{"ID": r.id, "Reclaimable": "false" if r.in_use else "true",
                 "Size": human_size(r.size),
                 "LastAccessed": since(epoch(r.last_used_at)) if r.last_used_at else ""}
                for r in records]
        write_rows(ctx.out, rows, "", "table {{.ID}}\t{{.Reclaimable}}\t{{.Size}}"
                   "\t{{.LastAccessed}}", {"ID": "ID", "LastAccessed": "LAST ACCESSED"})
    shared = sum(r.size for r in records if r.shared)
    if shared:
        ctx.out.write(f"Shared:\t\t{human_size(shared)}\n"
                      f"Private:\t{human_size(usage.size - shared)}\n")
    ctx.out.write(f"Reclaimable:\t{human_size(usage.reclaimable)}\n"
                  f"Total:\t\t{human_size(usage.size)}\n")
    return 0
