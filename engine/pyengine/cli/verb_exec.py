"""pyctl exec: run a command in a running container (no -i/-t yet); exits with its status
(126: cannot be invoked, 127: not found, as docker)."""

from __future__ import annotations

import argparse
import sys

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")
    p.add_argument("-e", "--env", action="append", default=[], help="set environment variables")
    p.add_argument("-w", "--workdir", default="", help="working directory inside the container")
    p.add_argument("-u", "--user", default="", help="username or UID (<name|uid>[:<group|gid>])")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.verb_run import start_failure
    from pyengine.cli.wire import status as rpc

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    outputs = ctx.client.containers.Exec(containers_pb2.ExecRequest(
        id=args.container, cmd=command, env=args.env, workdir=args.workdir, user=args.user))
    status = 0
    try:
        for item in outputs:
            if item.exited:
                status = item.exit_code
                continue
            target = sys.stderr.buffer if item.stream == "stderr" else sys.stdout.buffer
            target.write(item.data)
            target.flush()
    except rpc.RpcError as err:
        if ctx.is_connect_error(err) or err.code() in (rpc.NOT_FOUND,
                                                       rpc.FAILED_PRECONDITION):
            raise
        ctx.err.write(f"Error response from daemon: {err.details()}\n")
        return start_failure(err.details() or "")
    finally:
        outputs.cancel()
    return status
