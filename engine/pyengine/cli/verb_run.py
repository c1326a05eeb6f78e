"""pyctl run: create and start a container; in the foreground print its output and exit with
its status (125: the daemon failed, 126: the command cannot be invoked, 127: not found)."""

from __future__ import annotations

from pyengine.cli import container_opts, logs_view
from pyengine.cli.context import Context

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from pyengine.api import containers_lean


def add(p: argparse.ArgumentParser) -> None:
    container_opts.add(p)
    p.add_argument("-d", "--detach", action="store_true", help="run in the background")
    p.add_argument("--rm", action="store_true", help="remove the container when it exits")
    p.set_defaults(func=run)


def start_failure(details: str) -> int:
    lowered = details.lower()
    if "not found" in lowered or "no such file" in lowered:
        return 127
    if "permission denied" in lowered:
        return 126
    return 125


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_lean as api
    from pyengine.cli.wire import status as rpc

    stub = ctx.client.lean(api.ContainersService)
    try:
        cid = container_opts.create(ctx, container_opts.request(args, auto_remove=args.rm))
    except rpc.RpcError as err:
        if ctx.is_connect_error(err):
            raise
        ctx.err.write(f"pyctl: Error response from daemon: {err.details()}.\n")
        return 125
    waiter = None
    if not args.detach:  # asked before the start, so no exit goes unseen
        condition = "removed" if args.rm else "next-exit"
        waiter = stub.Wait.future(api.WaitContainerRequest(id=cid, condition=condition))
    try:
        stub.Start(api.StartContainerRequest(id=cid))
    except rpc.RpcError as err:
        if waiter is not None:
            waiter.cancel()
        if ctx.is_connect_error(err):
            raise
        details = err.details() or ""
        ctx.err.write(f"pyctl: Error response from daemon: {details}.\n")
        if args.rm:
            try:
                stub.Remove(api.RemoveContainerRequest(id=cid, force=True))
            except rpc.RpcError:
                pass
        return start_failure(details)
    if waiter is None:
        ctx.out.write(cid + "\n")
        return 0
    stdin = None
    if args.interactive:  # pyctl's stdin to the container's, closed at its end
        stdin = stub.WriteStdin.future(_stdin_chunks(cid))
    logs = stub.Logs(api.ContainerLogsRequest(
        id=cid, follow=True, tail=-1, stdout=True, stderr=True))
    try:
        logs_view.write(logs)
    except rpc.RpcError as err:
        if err.code() != rpc.NOT_FOUND:  # --rm may remove it first
            raise
    finally:
        logs.cancel()
        if stdin is not None:
            stdin.cancel()
    return int(waiter.result().status_code)


def _stdin_chunks(cid: str) -> Iterator[containers_lean.StdinChunk]:
    import os
    import sys

    from pyengine.api import containers_lean

    yield containers_lean.StdinChunk(id=cid)
    fd = sys.stdin.fileno()
    while chunk := os.read(fd, 65536):
        yield containers_lean.StdinChunk(data=chunk)
