"""pyctl network ls: list networks (docker's columns, filters and --format fields)."""

from __future__ import annotations

import argparse
from typing import Any

from pyengine.cli.context import Context

DEFAULT_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
           "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
           "CreatedAt": "CREATED AT"}


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="only display network IDs")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate the output")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="provide filter values (e.g. 'driver=bridge')")
    p.add_argument("--format", default="", help="Go template for each network")
    p.set_defaults(func=run)


def created_at(stamp: str) -> str:
    """docker's CreatedAt: "2024-01-02 03:04:05.123456789 +0000 UTC"."""
    day, _, rest = stamp.rstrip("Z").partition("T")
    return f"{day} {rest} +0000 UTC" if rest else stamp


def row(n: Any, no_trunc: bool) -> dict[str, Any]:
    labels = dict(n.labels)
    return {
        "ID": n.id if no_trunc else n.id[:12], "Name": n.name, "Driver": n.driver,
        "Scope": n.scope, "IPv6": "true" if n.ipv6 else "false",
        "Internal": "true" if n.internal else "false",
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""), "CreatedAt": created_at(n.created),
    }


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import networks_pb2
    from pyengine.cli.output import write_rows

    found = sorted(ctx.client.networks.List(
        networks_pb2.ListNetworksRequest(filters=args.filter)).networks, key=lambda n: n.name)
    if args.quiet:
        for n in found:
            ctx.out.write((n.id if args.no_trunc else n.id[:12]) + "\n")
        return 0
    rows = [row(n, args.no_trunc) for n in found]
    if "json" in args.format:  # "json", {{json .}}: a method is no JSON field
        for r in rows:
            del r["Label"]
    write_rows(ctx.out, rows, args.format, DEFAULT_TABLE, HEADERS)
    return 0
