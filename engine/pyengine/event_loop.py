"""The daemon's event loop: uvloop's (libuv) by default, asyncio's selector loop on request.

Everything the daemon serves runs on this one loop (docs/ENGINE.md "Concurrency model"), so its
per-callback cost is paid on every request, stream chunk and shim event: uvloop's is about a
third of the selector loop's (tools/bench/dockerapi.py, the REST edge's `docker ps`). Only the
daemon's loop is uvloop's: the global policy is left alone, so libraries that make loops of
their own (pyroute2's netlink sockets, which uvloop cannot carry) keep asyncio's.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("pyengine.daemon")


def new_loop(kind: str) -> tuple[asyncio.AbstractEventLoop, str]:
    """A new loop of `kind` ("uvloop" or "asyncio") and the kind it is: "asyncio" when uvloop
    was asked for but is not installed."""
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: running on asyncio's event loop")
        else:
            return uvloop.new_event_loop(), "uvloop"
    return asyncio.new_event_loop(), "asyncio"
