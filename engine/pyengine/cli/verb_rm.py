"""pyctl rm: remove containers (-f: kill a running one first)."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.add_argument("-f", "--force", action="store_true", help="force the removal of a running "
                   "container (uses SIGKILL)")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="remove anonymous volumes associated with the container")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    # docker rm -f nosuch -> "Error response from daemon: No such container: nosuch", exit 0
    return each(ctx, args.containers, lambda ref: ctx.client.containers.Remove(
        containers_pb2.RemoveContainerRequest(id=ref, force=args.force,
                                              volumes=args.volumes)),
        missing_ok=args.force)
