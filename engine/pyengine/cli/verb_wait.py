"""pyctl wait: block until containers stop, print their exit codes."""

from __future__ import annotations

import argparse

from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    import grpc

    from pyengine.api import containers_pb2

    status = 0
    for ref in args.containers:
        try:
            answer = ctx.client.containers.Wait(containers_pb2.WaitContainerRequest(id=ref))
        except grpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            status = 1
            continue
        ctx.out.write(f"{answer.status_code}\n")
    return status
