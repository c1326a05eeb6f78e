"""One call per named container, docker's way: print each name done, report each failure."""

from __future__ import annotations

from collections.abc import Callable

from pyengine.cli.context import Context


def each(ctx: Context, refs: list[str], call: Callable[[str], object]) -> int:
    import grpc

    status = 0
    for ref in refs:
        try:
            call(ref)
        except grpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            status = 1
            continue
        ctx.out.write(ref + "\n")
    return status
