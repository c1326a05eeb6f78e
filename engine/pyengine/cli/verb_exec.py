"""pyctl exec: run a command in a running container; exits with its status (126 when it
cannot be started, whatever the cause, as docker). -i feeds pyctl's stdin, -t makes it a
terminal session (raw mode, window size, detach keys), -d starts it in the background."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pyengine.cli.context import CliError, Context

if TYPE_CHECKING:
    from pyengine.api import containers_pb2


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")
    p.add_argument("-e", "--env", action="append", default=[], help="set environment variables")
    p.add_argument("-w", "--workdir", default="", help="working directory inside the container")
    p.add_argument("-u", "--user", default="", help="username or UID (<name|uid>[:<group|gid>])")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    p.add_argument("-d", "--detach", action="store_true",
                   help="detached mode: run command in the background")
    p.add_argument("--detach-keys", default="",
                   help="override the key sequence for detaching a container")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_pb2
    from pyengine.cli.wire import status as rpc

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        # docker exec e1 -> exit 1: docker: 'docker exec' requires at least 2 arguments
        raise CliError("'pyctl exec' requires at least 2 arguments\n"
                       "See 'pyctl exec --help'.", prefix="pyctl: ")
    request = containers_pb2.ExecRequest(id=args.container, cmd=command, env=args.env,
                                         workdir=args.workdir, user=args.user)
    try:
        if args.interactive or args.tty or args.detach:
            return interactive(ctx, args, request)
        return plain(ctx, request)
    except rpc.RpcError as err:
        if ctx.is_connect_error(err) or err.code() in (rpc.NOT_FOUND,
                                                       rpc.FAILED_PRECONDITION):
            raise
        if (err.details() or "").startswith("Invalid detach keys"):
            raise  # refused before the exec is made: docker's exit 1, "Error response ..."
        if args.detach:
            # docker exec -d e1 nosuchcmd -> exit 1, "Error response from daemon: OCI runtime
            # exec failed: ..." on stderr
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            return 1
        # docker exec e1 nosuchcmd (or /nonexist, /etc, -u nosuchuser, -w /nonexist) -> exit
        # 126 whatever the cause, the reason on stdout (it comes through the exec's stream)
        ctx.out.write(f"{err.details()}\n")
        return 126


def plain(ctx: Context, request: containers_pb2.ExecRequest) -> int:
    outputs = ctx.client.containers.Exec(request)
    status = 0
    try:
        for item in outputs:
            if item.exited:
                status = item.exit_code
                continue
            target = sys.stderr.buffer if item.stream == "stderr" else sys.stdout.buffer
            target.write(item.data)
            target.flush()
    finally:
        outputs.cancel()
    return status


def interactive(ctx: Context, args: argparse.Namespace,
                request: containers_pb2.ExecRequest) -> int:
    import os

    from pyengine.api import containers_pb2
    from pyengine.cli import attach_io

    stdin = args.interactive and not args.detach
    if args.tty and stdin and not os.isatty(0):
        ctx.err.write(attach_io.NOT_A_TTY + "\n")
        return 1
    size = attach_io.window_size() if args.tty and not args.detach else None
    height, width = size or (0, 0)
    call = ctx.client.containers.ExecStream(containers_pb2.ExecInput(
        start=request, tty=args.tty, stdin=stdin, detach=args.detach,
        detach_keys=args.detach_keys, height=height, width=width))
    try:
        code = attach_io.session(call, containers_pb2.ExecInput, stdin=stdin, tty=args.tty,
                                 resize=size is not None)
    finally:
        call.cancel()
    return 0 if code is None or code == attach_io.DETACHED else code
