"""pyctl volume ls: list volumes."""

from __future__ import annotations

from pyengine.cli.context import Context
from pyengine.cli.output import write_rows

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse

HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Mountpoint": "MOUNTPOINT"}


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="only display volume names")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="filter: dangling=true|false, name, driver, label")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2

    response = ctx.client.volumes.List(volumes_pb2.ListVolumesRequest(filters=args.filter))
    if args.quiet:
        ctx.out.write("".join(f"{v.name}\n" for v in response.volumes))
        return 0
    rows = [{
        "Name": v.name, "Driver": v.driver, "Scope": v.scope or "local",
        "Mountpoint": v.mountpoint, "Labels": ",".join(f"{k}={val}" for k, val in
                                                       sorted(v.labels.items())),
        "Links": "N/A", "Size": "N/A", "Availability": "N/A", "Group": "N/A",
        "Status": "N/A",
    } for v in response.volumes]
    write_rows(ctx.out, rows, args.format, "table {{.Driver}}\t{{.Name}}", HEADERS)
    return 0
