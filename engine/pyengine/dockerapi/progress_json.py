"""docker's JSON progress messages (pkg/jsonmessage): a pull's or push's reports as
{"status","progressDetail","progress","id"} lines, errors as {"errorDetail","error"}, build
output as {"stream"}; and the streamed response that carries them, one compact JSON document
per line."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from pyengine.progress import Report
from pyengine.units import progress_bar

BYTE_STATUSES = ("Downloading", "Extracting", "Pushing")
# the domain's whole-pull line "TAG: Pulling from REPO" is docker's {"id": TAG, "status": ...}
_PULLING = re.compile(r"^(\S+): (Pulling from .*)$")
# a push's last line "TAG: digest: DIGEST size: N", which docker follows with an aux message
_PUSHED = re.compile(r"^(\S+): digest: (\S+) size: (\d+)$")


def progress_message(report: Report) -> dict[str, Any]:
    if not report.id:
        m = _PULLING.match(report.status)
        if m:
            return {"status": m.group(2), "id": m.group(1)}
        return {"status": report.status}
    message: dict[str, Any] = {"status": report.status, "progressDetail": {}}
    if report.status in BYTE_STATUSES and report.total > 0:
        message["progressDetail"] = {"current": report.current, "total": report.total}
        message["progress"] = progress_bar(report.current, report.total)
    message["id"] = report.id
    return message


def aux_message(report: Report) -> dict[str, Any] | None:
    """The aux message docker sends after a push's digest line, else None."""
    m = None if report.id else _PUSHED.match(report.status)
    if m is None:
        return None
    aux = {"Tag": m.group(1), "Digest": m.group(2), "Size": int(m.group(3))}
    return {"progressDetail": {}, "aux": aux}


def error_message(text: str, code: int = 0) -> dict[str, Any]:
    detail: dict[str, Any] = {"message": text}
    if code:
        detail = {"code": code, "message": text}
    return {"errorDetail": detail, "error": text}


def stream_message(text: str) -> dict[str, Any]:
    return {"stream": text}


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


class JsonStream:
    """A 200 response of JSON lines, started at the first line written: until then an error
    can still be answered with its own status, as dockerd does before its output is flushed."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.response: web.StreamResponse | None = None

    @property
    def started(self) -> bool:
        return self.response is not None

    async def start(self) -> web.StreamResponse:
        if self.response is None:
            response = web.StreamResponse(status=200)
            response.content_type = "application/json"
            await response.prepare(self.request)
            self.response = response
        return self.response

    async def send(self, message: dict[str, Any]) -> None:
        response = await self.start()
        await response.write(encode(message))

    async def finish(self) -> web.StreamResponse:
        response = await self.start()
        await response.write_eof()
        return response
