"""pyctl attach: attach pyctl's stdin (if the container keeps one open), stdout and stderr to a
running container; exits with its status, or 0 after the detach keys (default ctrl-p ctrl-q)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pyengine.cli import sig_proxy
from pyengine.cli.context import Context

if TYPE_CHECKING:
    from pyengine.cli.wire.channel import BidiCall


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--no-stdin", action="store_true", help="do not attach STDIN")
    p.add_argument("--detach-keys", default="",
                   help="override the key sequence for detaching a container")
    sig_proxy.add_flag(p)
    p.set_defaults(func=run)


class Target:
    """What pyctl needs to know of a container to attach to it (from inspect)."""

    def __init__(self, ctx: Context, ref: str) -> None:
        import json

        from pyengine.api import containers_pb2

        doc = json.loads(ctx.client.containers.Inspect(
            containers_pb2.InspectContainerRequest(id=ref)).json)
        self.id: str = doc["Id"]
        self.running: bool = doc["State"]["Running"]
        self.paused: bool = doc["State"].get("Paused", False)
        self.tty: bool = doc["Config"]["Tty"]
        self.open_stdin: bool = doc["Config"].get("OpenStdin", False)


def open_call(ctx: Context, cid: str, stdin: bool, detach_keys: str) -> BidiCall:
    """An Attach call to all of the container's streams, once the daemon has subscribed."""
    from pyengine.api import containers_pb2
    from pyengine.cli import attach_io

    call: BidiCall = ctx.client.containers.Attach(containers_pb2.AttachInput(
        id=cid, stdin=stdin, stdout=True, stderr=True, detach_keys=detach_keys))
    attach_io.open_session(call)
    return call


def run(ctx: Context, args: argparse.Namespace) -> int:
    import os

    from pyengine.cli import attach_io
    from pyengine.cli.verb_run import finish

    target = Target(ctx, args.container)
    if not target.running:
        ctx.err.write("You cannot attach to a stopped container, start it first\n")
        return 1
    if target.paused:
        ctx.err.write("You cannot attach to a paused container, unpause it first\n")
        return 1
    stdin = target.open_stdin and not args.no_stdin
    if target.tty and stdin and not os.isatty(0):
        ctx.err.write(attach_io.NOT_A_TTY + "\n")
        return 1
    call = open_call(ctx, target.id, stdin, args.detach_keys)
    return finish(ctx, call, None, stdin=stdin, tty=target.tty,
                  proxy=target.id if sig_proxy.wanted(args) else "")
