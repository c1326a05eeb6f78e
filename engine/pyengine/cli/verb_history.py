"""pyctl history: an image's history."""

from __future__ import annotations

from pyengine.api import images_pb2
from pyengine.cli.context import Context
from pyengine.cli.output import write_rows
from pyengine.units import created_at, human_size, since

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-H", "--human", default="true", nargs="?", const="true",
                   help="print sizes and dates in human readable format (default true)")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    response = ctx.client.images.History(images_pb2.ImageHistoryRequest(reference=args.image))
    human = str(args.human).lower() not in ("false", "0")
    rows = []
    for entry in response.entries:
        ident = entry.id
        if ident.startswith("sha256:") and not args.no_trunc:
            ident = ident.split(":", 1)[1][:12]
        created_by = entry.created_by.replace("\t", " ").replace("\n", " ")
        if not args.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append({
            "ID": ident,
            "CreatedSince": since(entry.created) if human else created_at(entry.created),
            "CreatedAt": created_at(entry.created),
            "CreatedBy": created_by,
            "Size": human_size(entry.size) if human else str(entry.size),
            "Comment": entry.comment,
        })
    if args.quiet:
        ctx.out.write("".join(f"{r['ID']}\n" for r in rows))
        return 0
    write_rows(ctx.out, rows, args.format,
               "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
               headers={"ID": "IMAGE"})
    return 0
