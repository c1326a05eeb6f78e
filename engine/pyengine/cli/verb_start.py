"""pyctl start: start stopped containers; with -a (and -i) attached to one, as `run` is."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.add_argument("-a", "--attach", action="store_true",
                   help="attach STDOUT/STDERR and forward signals")
    p.add_argument("-i", "--interactive", action="store_true", help="attach container's STDIN")
    p.add_argument("--detach-keys", default="",
                   help="override the key sequence for detaching a container")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2

    if args.attach or args.interactive:
        return start_attached(ctx, args)
    # docker start nosuch -> "Error response from daemon: No such container: nosuch", then
    # "Error: failed to start containers: nosuch", exit 1
    return each(ctx, args.containers, lambda ref: ctx.client.containers.Start(
        containers_pb2.StartContainerRequest(id=ref)),
        summary="Error: failed to start containers")


def start_attached(ctx: Context, args: argparse.Namespace) -> int:
    import os

    from pyengine.api import containers_pb2
    from pyengine.cli import attach_io
    from pyengine.cli.context import CliError
    from pyengine.cli.verb_attach import Target, open_call
    from pyengine.cli.verb_run import finish

    if len(args.containers) > 1:
        raise CliError("you cannot start and attach multiple containers at once")
    target = Target(ctx, args.containers[0])
    stdin = args.interactive and target.open_stdin
    if target.tty and stdin and not os.isatty(0):
        ctx.err.write(attach_io.NOT_A_TTY + "\n")
        return 1
    call = open_call(ctx, target.id, stdin, args.detach_keys)
    try:
        ctx.client.containers.Start(containers_pb2.StartContainerRequest(id=target.id))
    except BaseException:
        call.cancel()
        raise
    return finish(ctx, call, None, stdin=stdin, tty=target.tty,
                  proxy=target.id)  # docker's start -a always proxies (no --sig-proxy)
