"""pyctl search: search a registry's catalog."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.context import Context
from pyengine.cli.output import write_rows

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("term", metavar="[REGISTRY/]TERM")
    p.add_argument("--limit", type=int, default=25, help="maximum number of results")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    host = args.term.split("/", 1)[0] if "/" in args.term else ""
    response = ctx.client.images.Search(images_pb2.SearchImagesRequest(
        term=args.term, limit=args.limit, auth=ctx.auth_for_host(host) if host else None,
    ))
    rows = [{"Name": r.name, "Description": r.description, "StarCount": str(r.star_count),
             "IsOfficial": "[OK]" if r.is_official else ""} for r in response.results]
    write_rows(ctx.out, rows, args.format,
               "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}")
    return 0
