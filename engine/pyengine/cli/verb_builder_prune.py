"""pyctl builder prune: remove build cache records (docker's prompt and summary)."""

from __future__ import annotations

import sys

from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse

    from pyengine.api import build_lean


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="remove all unused build cache, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[],
                   help="provide filter values (e.g. 'until=24h')")
    p.add_argument("--keep-storage", default="", help="amount of disk space to keep for cache")
    p.set_defaults(func=run)


def request(args: argparse.Namespace) -> build_lean.PruneBuildCacheRequest:
    from pyengine.api import build_lean as api
    from pyengine.units import ram_in_bytes

    until = ""
    for item in args.filter:
        key, eq, value = item.partition("=")
        if not eq or key not in ("until", "unused-for"):
            raise CliError(f"invalid filter '{item}': builder prune takes until=<duration or "
                           "timestamp>", usage=True)
        until = value
    keep = 0
    if args.keep_storage:
        try:
            keep = ram_in_bytes(args.keep_storage)
        except ValueError as err:
            raise CliError(f'invalid argument "{args.keep_storage}" for "--keep-storage" flag: '
                           f"{err}\nSee 'pyctl builder prune --help'.", usage=True,
                           prefix="") from None
    return api.PruneBuildCacheRequest(all=args.all, until=until, keep_storage=keep)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import build_lean as api
    from pyengine.units import human_size

    prune = request(args)
    if not args.force:
        what = "all build cache" if args.all else "all dangling build cache"
        ctx.out.write(f"WARNING! This will remove {what}. Are you sure you want to continue? "
                      "[y/N] ")
        ctx.out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    response = ctx.client.lean(api.BuildsService).Prune(prune)
    if response.deleted:
        ctx.out.write("Deleted build cache objects:\n"
                      + "".join(f"{i}\n" for i in response.deleted) + "\n")
    ctx.out.write(f"Total reclaimed space: {human_size(response.space_reclaimed)}\n")
    return 0
