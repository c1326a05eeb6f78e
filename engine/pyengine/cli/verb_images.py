"""pyctl images: list images."""

from __future__ import annotations

from pyengine.api import images_lean as api
from pyengine.cli.context import CliError, Context
from pyengine.cli.output import write_rows
from pyengine.units import created_at, human_size, since

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("repository", nargs="?", default="", metavar="REPOSITORY[:TAG]")
    p.add_argument("-a", "--all", action="store_true", help="show all images")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--digests", action="store_true", help="show digests")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="filter: dangling=true|false, reference=PATTERN")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def _image_row(img: api.ImageSummary, no_trunc: bool) -> dict:
    size = human_size(img.size)
    return {
        "Containers": "N/A",
        "CreatedAt": created_at(img.created),
        "CreatedSince": since(img.created),
        "Digest": img.digest or "<none>",
        "ID": img.id if no_trunc else img.id.split(":", 1)[-1][:12],
        "Repository": img.repository or "<none>",
        "SharedSize": "N/A",
        "Size": size,
        "Tag": img.tag or "<none>",
        "UniqueSize": "N/A",
        "VirtualSize": size,
    }


def run(ctx: Context, args: argparse.Namespace) -> int:
    request = api.ListImagesRequest(all=args.all, reference_filter=args.repository)
    for spec in args.filter:
        key, _, value = spec.partition("=")
        if key == "dangling":
            if value not in ("true", "false", "1", "0"):
                raise CliError(f"invalid filter 'dangling={value}'", usage=True)
            request.dangling = value in ("true", "1")
        elif key == "reference":
            request.reference_filter = value
        else:
            raise CliError(f"invalid filter '{key}'", usage=True)
    response = ctx.client.lean(api.ImagesService).List(request)
    rows = [_image_row(img, args.no_trunc) for img in response.images]
    if args.quiet:
        seen = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        ctx.out.write("".join(f"{i}\n" for i in seen))
        return 0
    default = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    if args.digests:
        default = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}"
                   "\t{{.Size}}")
    write_rows(ctx.out, rows, args.format, default)
    return 0
