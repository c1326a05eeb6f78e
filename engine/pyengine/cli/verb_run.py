"""pyctl run: create and start a container; in the foreground attached to its streams (before
the start, so no output is lost), exiting with its status (125: the daemon failed, 126: the
command cannot be invoked, 127: not found). -i feeds pyctl's stdin, -t makes it a terminal
session (raw mode, window size), the detach keys leave it running."""

from __future__ import annotations

from pyengine.cli import container_opts, sig_proxy
from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse

    from pyengine.cli.wire.channel import BidiCall, Future

STREAMS = ("stdin", "stdout", "stderr")


def add(p: argparse.ArgumentParser) -> None:
    container_opts.add(p)
    p.add_argument("-d", "--detach", action="store_true", help="run in the background")
    p.add_argument("--rm", action="store_true", help="remove the container when it exits")
    p.add_argument("-a", "--attach", action="append", default=[],
                   help="attach to STDIN, STDOUT or STDERR")
    p.add_argument("--detach-keys", default="",
                   help="override the key sequence for detaching a container")
    sig_proxy.add_flag(p)
    p.set_defaults(func=run)


def _sentence(text: str | None) -> str:
    """docker 20.10's reportError: one final period, never two ("...reuse that name.")."""
    return (text or "").removesuffix(".") + "."


def start_failure(details: str) -> int:
    lowered = details.lower()
    if "not found" in lowered or "no such file" in lowered:
        return 127
    if "permission denied" in lowered:
        return 126
    return 125


def attached_streams(args: argparse.Namespace) -> tuple[str, ...]:
    """docker's choice: -a's streams, else stdout and stderr (and stdin with -i)."""
    if args.attach:
        if args.detach:
            raise CliError("Conflicting options: -a and -d", usage=True)
        wanted = {a.lower() for a in args.attach}
        bad = sorted(wanted - set(STREAMS))
        if bad:
            raise CliError(f'invalid argument "{bad[0]}" for "-a, --attach" flag: valid '
                           "streams are STDIN, STDOUT and STDERR", usage=True)
        return tuple(s for s in STREAMS if s in wanted)
    if args.detach:
        return ()
    return ("stdin", "stdout", "stderr") if args.interactive else ("stdout", "stderr")


def run(ctx: Context, args: argparse.Namespace) -> int:
    import os

    from pyengine.api import containers_lean as api
    from pyengine.cli import attach_io
    from pyengine.cli.wire import status as rpc

    streams = attached_streams(args)
    if args.tty and "stdin" in streams and not os.isatty(0):
        ctx.err.write(attach_io.NOT_A_TTY + "\n")
        return 1
    stub = ctx.client.lean(api.ContainersService)
    try:
        cid = container_opts.create(ctx, container_opts.request(args, auto_remove=args.rm))
    except rpc.RpcError as err:
        if ctx.is_connect_error(err):
            raise
        ctx.err.write(f"pyctl: Error response from daemon: {_sentence(err.details())}\n")
        return 125
    call: BidiCall | None = None
    waiter: Future | None = None
    if args.detach:
        # docker prints the id before the start, so also when the start fails:
        # docker run -d busybox /nonexist -> the id on stdout, the error, exit 127
        ctx.out.write(cid + "\n")
        ctx.out.flush()
    try:
        if streams:  # attached before the start, so no output goes unseen
            call = stub.Attach(api.AttachInput(
                id=cid, stdin="stdin" in streams, stdout="stdout" in streams,
                stderr="stderr" in streams, detach_keys=args.detach_keys,
                stdin_once="stdin" in streams))
            attach_io.open_session(call)
            if args.rm:  # asked before the start, so the removal goes unseen neither
                waiter = stub.Wait.future(api.WaitContainerRequest(
                    id=cid, condition="removed"))
        stub.Start(api.StartContainerRequest(id=cid))
    except rpc.RpcError as err:
        for pending in (call, waiter):
            if pending is not None:
                pending.cancel()
        if ctx.is_connect_error(err):
            raise
        details = err.details() or ""
        ctx.err.write(f"pyctl: Error response from daemon: {_sentence(details)}\n")
        if args.rm:
            try:
                stub.Remove(api.RemoveContainerRequest(id=cid, force=True))
            except rpc.RpcError:
                pass
        return start_failure(details)
    if call is None:
        return 0
    return finish(ctx, call, waiter, stdin="stdin" in streams, tty=args.tty,
                  proxy=cid if sig_proxy.wanted(args) else "")


def finish(ctx: Context, call: BidiCall, waiter: Future | None, *, stdin: bool,
           tty: bool, proxy: str = "") -> int:
    """The attached session of a started container: its exit code (0 after a detach).
    Without a tty, the signals pyctl receives go to container `proxy` (if given)."""
    from pyengine.api import containers_lean as api
    from pyengine.cli import attach_io
    from pyengine.cli.wire import status as rpc

    ctx.out.flush()
    try:
        code = attach_io.session(call, api.AttachInput, stdin=stdin, tty=tty,
                                 resize=tty and attach_io.window_size() is not None,
                                 forward=sig_proxy.forwarder(ctx, proxy)
                                 if proxy and not tty else None)
    except rpc.RpcError as err:
        if err.code() != rpc.NOT_FOUND:  # --rm may remove it first
            raise
        code = None
    finally:
        call.cancel()
    if code == attach_io.DETACHED:
        if waiter is not None:
            waiter.cancel()
        return 0
    if waiter is not None:
        try:
            waiter.result()
        except rpc.RpcError as err:
            if err.code() != rpc.NOT_FOUND:
                raise
    return 125 if code is None else code
