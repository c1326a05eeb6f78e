"""GET /containers/{id}/logs: docker's logs stream (follow, stdout, stderr, since, until,
timestamps, tail), multiplexed (stdcopy.py) unless the container has a terminal. The entries,
and following them, are the domain's (ContainerService.logs), as for the gRPC edge."""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from pyengine.containers.logs import rfc3339_nano
from pyengine.containers.service import check_readable_log
from pyengine.dockerapi import hijack, stdcopy
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.query import flag
from pyengine.dockerapi.routes import Routes
from pyengine.errors import EngineError, InvalidArgument

log = logging.getLogger("pyengine.dockerapi")


def parse_timestamp(text: str, name: str) -> int:
    """docker's since/until: "seconds[.nanoseconds]" since the epoch (what the CLI sends for
    any form the user typed) -> ns; 0 for none."""
    if not text:
        return 0
    seconds, _, fraction = text.partition(".")
    if not seconds.lstrip("-").isdigit() or (fraction and not fraction.isdigit()):
        raise InvalidArgument(f"invalid value for {name}: {text}")
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9])


def parse_tail(text: str) -> int:
    """docker's tail: "all" (or nothing, or anything not a number >= 0) is every line."""
    try:
        tail = int(text)
    except ValueError:
        return -1
    return tail if tail >= 0 else -1


def register(routes: Routes, api: ApiContext) -> None:
    async def logs(request: web.Request) -> web.StreamResponse:
        streams = tuple(s for s in ("stdout", "stderr") if flag(request, s))
        if not streams:
            raise InvalidArgument("Bad parameters: you must choose at least one stream")
        c = await api.workers.run(api.engine.containers.get, request.match_info["id"])
        check_readable_log(c)  # before the headers: dockerd's 501
        entries = api.engine.containers.logs(
            c.id, tail=parse_tail(request.query.get("tail", "all")),
            since=parse_timestamp(request.query.get("since", ""), "since"),
            until=parse_timestamp(request.query.get("until", ""), "until"),
            streams=streams, follow=flag(request, "follow"))
        stamped = flag(request, "timestamps")
        tty = c.spec.tty
        response = web.StreamResponse(headers={"Content-Type": hijack.RAW_STREAM})
        await response.prepare(request)
        try:
            async with contextlib.aclosing(entries):
                async for entry in entries:
                    data = entry.data
                    if stamped:
                        data = rfc3339_nano(entry.time_nano).encode() + b" " + data
                    await response.write(stdcopy.encode(entry.stream, data, tty))
        except EngineError as err:  # the headers are out: the stream just ends (as docker's)
            log.warning("logs stream ended", extra={"fields": {"container": c.id,
                                                               "error": str(err)}})
            return response
        await response.write_eof()
        return response

    routes.get("/containers/{id}/logs", logs)
