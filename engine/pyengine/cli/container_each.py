"""One call per named container, docker's way: print each name done, report each failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyengine.cli.context import Context


def each(ctx: Context, refs: list[str], call: Callable[[str], object],
         line: Callable[[str, Any], str] = lambda ref, answer: ref,
         summary: str = "", missing_ok: bool = False) -> int:
    """`line(ref, answer)`: what to print for a container done (its name by default);
    `summary`: a last line naming the failed ones, for the verbs where docker prints one
    ("Error: failed to start containers: a, b"); `missing_ok`: a container that does not exist
    is reported but does not fail the command (docker's rm -f)."""
    from pyengine.cli.wire import status as rpc

    status = 0
    failed: list[str] = []
    for ref in refs:
        try:
            answer = call(ref)
        except rpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            if missing_ok and err.code() == rpc.NOT_FOUND:
                continue
            status = 1
            failed.append(ref)
            continue
        ctx.out.write(line(ref, answer) + "\n")
    if failed and summary:
        ctx.err.write(f"{summary}: {', '.join(failed)}\n")
    return status
