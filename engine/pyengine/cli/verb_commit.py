"""pyctl commit: a new image from a container's changes."""

from __future__ import annotations

import argparse

from pyengine.cli.context import CliError, Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("reference", nargs="?", default="", metavar="REPOSITORY[:TAG]")
    p.add_argument("-a", "--author", default="",
                   help='author (e.g. "John Hannibal Smith <hannibal@a-team.com>")')
    p.add_argument("-c", "--change", action="append", default=[],
                   help="apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER, "
                        "LABEL, EXPOSE...)")
    p.add_argument("-m", "--message", default="", help="commit message")
    p.add_argument("-p", "--pause", nargs="?", const="true", default="true",
                   metavar="true|false", help="pause the container during commit (default true)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    pause = args.pause.lower()
    if pause not in ("true", "false", "1", "0"):
        raise CliError(f'invalid argument "{args.pause}" for "-p, --pause" flag: '
                       "strconv.ParseBool: parsing: invalid syntax", usage=True)
    response = ctx.client.containers.Commit(containers_pb2.CommitContainerRequest(
        id=args.container, reference=args.reference, comment=args.message,
        author=args.author, changes=args.change, no_pause=pause in ("false", "0")))
    ctx.out.write(response.id + "\n")
    return 0
