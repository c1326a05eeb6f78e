"""pyctl system df: disk usage."""

from __future__ import annotations

from pyengine.api import system_pb2
from pyengine.cli.context import Context
from pyengine.cli.output import write_rows
from pyengine.cli.verb_builder_du import DETAIL_HEADERS, DETAIL_TABLE, detail_rows, summary
from pyengine.units import human_size, since

VOLUME_HEADERS = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse
    from typing import Any


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="show detailed information")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def _percent(part: int, whole: int) -> str:
    return f"{human_size(part)} ({int(100 * part / whole) if whole else 0}%)"


def _volumes_row(volumes: list[Any]) -> dict[str, str]:
    total = sum(v.size for v in volumes)
    unused = sum(v.size for v in volumes if not v.links)
    reclaimable = human_size(unused)
    if total:
        reclaimable += f" ({100 * unused // total}%)"
    return {"Type": "Local Volumes", "TotalCount": str(len(volumes)),
            "Active": str(sum(1 for v in volumes if v.links)), "Size": human_size(total),
            "Reclaimable": reclaimable}


def run(ctx: Context, args: argparse.Namespace) -> int:
    usage = ctx.client.system.DiskUsage(system_pb2.DiskUsageRequest())
    images_size = usage.layers_size
    rows = [
        {"Type": "Images", "TotalCount": str(len(usage.images)), "Active": "0",
         "Size": human_size(images_size), "Reclaimable": _percent(images_size, images_size)},
        {"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        _volumes_row(list(usage.volumes)),
        summary(list(usage.build_cache)),
        {"Type": "Content Store", "TotalCount": "", "Active": "",
         "Size": human_size(usage.content_size),
         "Reclaimable": human_size(usage.content_size)},
    ]
    write_rows(ctx.out, rows, args.format,
               "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}")
    if args.verbose and not args.format:
        ctx.out.write("\nImages space usage:\n\n")
        image_rows = []
        for img in usage.images:
            for tag in list(img.repo_tags) or ["<none>:<none>"]:
                repo, _, tag_part = tag.rpartition(":")
                image_rows.append({
                    "Repository": repo, "Tag": tag_part, "ID": img.id.split(":", 1)[-1][:12],
                    "CreatedSince": since(img.created), "Size": human_size(img.size),
                    "SharedSize": human_size(img.shared_size),
                    "UniqueSize": human_size(img.size - img.shared_size),
                    "Containers": str(img.containers),
                })
        write_rows(ctx.out, image_rows, "",
                   "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                   "\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}")
        ctx.out.write("\nLocal Volumes space usage:\n\n")
        write_rows(ctx.out, [{"Name": v.name, "Links": str(v.links), "Size": human_size(v.size)}
                             for v in usage.volumes], "",
                   "table {{.Name}}\t{{.Links}}\t{{.Size}}", VOLUME_HEADERS)
        cache = list(usage.build_cache)
        cache_size = sum(r.size for r in cache if not r.shared)
        ctx.out.write(f"\nBuild cache usage: {human_size(cache_size)}\n\n")
        write_rows(ctx.out, detail_rows(cache), "", DETAIL_TABLE, DETAIL_HEADERS)
    return 0
