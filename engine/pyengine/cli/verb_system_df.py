"""pyctl system df: disk usage."""

from __future__ import annotations

from pyengine.api import system_pb2
from pyengine.cli.context import Context
from pyengine.cli.output import write_rows
from pyengine.units import human_size, since

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="show detailed information")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def _percent(part: int, whole: int) -> str:
    return f"{human_size(part)} ({int(100 * part / whole) if whole else 0}%)"


def run(ctx: Context, args: argparse.Namespace) -> int:
    usage = ctx.client.system.DiskUsage(system_pb2.DiskUsageRequest())
    images_size = usage.layers_size
    rows = [
        {"Type": "Images", "TotalCount": str(len(usage.images)), "Active": "0",
         "Size": human_size(images_size), "Reclaimable": _percent(images_size, images_size)},
        {"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        {"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
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
    return 0
