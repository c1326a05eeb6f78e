"""POST /containers/{id}/attach: a container's stdio over the hijacked connection (hijack.py),
as `docker attach`, `docker run` (-a, -i, -t) and `docker start -a` use it.

Query: stream (the live output, and the session), logs (the stored output first), stdin,
stdout, stderr, detachKeys (scanned with a terminal only, as the domain's attach.serve does).
Output is docker's multiplexed framing (stdcopy.py) unless the container has a terminal. The
session itself is the domain's (containers/attach.py), the same as the gRPC edge's Attach.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from pyengine.containers import attach as sessions
from pyengine.containers import detachkeys
from pyengine.containers.fanout import Subscriber
from pyengine.dockerapi import hijack, stdcopy
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.query import flag
from pyengine.dockerapi.routes import Routes


async def client_inputs(conn: hijack.RawConnection) -> AsyncIterator[sessions.Input]:
    """The client's bytes as session inputs, ending at its half-close."""
    async for data in conn.chunks():
        yield sessions.Input(data=data)


async def run_session(conn: hijack.RawConnection, target: sessions.Target,
                      subscriber: Subscriber, options: sessions.Options, tty: bool,
                      streams: set[str] | None = None) -> sessions.Output | None:
    """Serve one session on the connection: the output (framed unless `tty`; of `streams`
    only, when given: an exec's unattached stream is dropped) until the process ends, the
    client detaches or goes away; the last output (exit or detach)."""
    outputs = sessions.serve(target, subscriber, client_inputs(conn), options)
    async with contextlib.aclosing(outputs):
        async for out in outputs:
            if out.exit_code is not None or out.detached:
                return out
            if streams is not None and out.stream not in streams:
                continue
            if not await conn.write(stdcopy.encode(out.stream, out.data, tty)):
                return None  # the client went away
    return None


def register(routes: Routes, api: ApiContext) -> None:
    async def attach(request: web.Request) -> web.StreamResponse:
        ref = request.match_info["id"]
        keys = detachkeys.parse(request.query.get("detachKeys", ""))
        streams = tuple(s for s in ("stdout", "stderr") if flag(request, s))
        c, target, subscriber = await api.engine.containers.attach(ref, streams)
        try:
            entries = api.engine.containers.logs(c.id, streams=streams) if flag(request, "logs") \
                and streams else None
            conn, response = await hijack.hijack(request)
        except BaseException:
            subscriber.close()
            raise
        tty = c.spec.tty
        try:
            if entries is not None:
                async with contextlib.aclosing(entries):
                    async for entry in entries:
                        if not await conn.write(stdcopy.encode(entry.stream, entry.data, tty)):
                            return response
            if not flag(request, "stream"):
                return response
            # docker's rule: the client's EOF closes the container's stdin with StdinOnce and
            # no terminal, else it ends the session (the container's stdin stays open)
            options = sessions.Options(
                stdin=flag(request, "stdin") and c.spec.open_stdin,
                detach_keys=keys if tty else None,
                stdin_once=c.spec.stdin_once and not tty, end_with_input=True)
            last = await run_session(conn, target, subscriber, options, tty)
            if last is not None and last.detached:
                api.engine.containers.attach_detached(c)
            return response
        finally:
            subscriber.close()

    routes.post("/containers/{id}/attach", attach)
