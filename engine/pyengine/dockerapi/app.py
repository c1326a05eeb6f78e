"""The aiohttp application: its middleware (version check, errors) and every resource's routes."""

from __future__ import annotations

import importlib
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from pyengine import __version__
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.errors import status_for
from pyengine.dockerapi.routes import Handler, Routes
from pyengine.dockerapi.versioning import API_VERSION, check

log = logging.getLogger("pyengine.dockerapi")

# one module per resource, each with `register(routes: Routes, api: ApiContext) -> None`
RESOURCES = ("system", "images", "build", "containers", "networks", "volumes", "attach",
             "logs", "execs", "swarm")

API_KEY = web.AppKey("api", ApiContext)
MAX_JSON_BODY = 16 << 20  # request.read() limit; archives and contexts are streamed
PREPARED = web.RequestKey("prepared", bool)  # its response's headers were sent


def error_response(status: int, message: str) -> web.Response:
    return json_response({"message": message}, status)


def json_response(body: Any, status: int = 200) -> web.Response:
    """docker's encoding: compact JSON with a trailing newline."""
    text = json.dumps(body, separators=(",", ":")) + "\n"
    # bytes: the Content-Type stays docker's bare "application/json" (no charset)
    return web.Response(body=text.encode(), status=status, content_type="application/json")


async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request's answer: the version check, the handler, and its errors as docker's bodies
    and statuses (the one place engine errors become HTTP ones). The Api-Version and Server
    headers go on in `docker_headers`, on every response."""
    prefix = request.match_info.get("version", "")
    if prefix:
        refusal = check(prefix[1:])
        if refusal is not None and "too old" in refusal:  # docker answers this one in text
            return web.Response(status=400, text=refusal + "\n")
        if refusal is not None:
            return error_response(400, refusal)
    try:
        return await handler(request)
    except web.HTTPException:
        if request.match_info.http_exception is not None:  # no route: docker's answer
            return error_response(404, "page not found")
        raise
    except Exception as err:
        status, message = status_for(err)
        if request.get(PREPARED):  # a stream's headers went already: aiohttp closes it
            log.warning("stream failed", extra={"fields": {
                "method": request.method, "path": request.path, "error": message}})
            raise
        if status >= 500:
            log.error("request failed", extra={"fields": {
                "method": request.method, "path": request.path, "error": message}})
        return error_response(status, message)


@web.middleware
async def version_and_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    return await answer(request, handler)


async def docker_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, streams included (their headers go before the handler returns)."""
    request[PREPARED] = True
    response.headers.setdefault("Api-Version", API_VERSION)
    response.headers.setdefault("Server", f"pyengined/{__version__} (linux)")


def build_app(api: ApiContext, middleware: Middleware = version_and_errors
              ) -> web.Application:
    """The routes of every resource behind one middleware (each one more is a coroutine per
    request): `version_and_errors`, or one that calls `answer` itself (server.track)."""
    app = web.Application(middlewares=[middleware], client_max_size=MAX_JSON_BODY)
    app.on_response_prepare.append(docker_headers)
    app[API_KEY] = api
    routes = Routes(app.router)
    for name in RESOURCES:
        module = importlib.import_module(f"pyengine.dockerapi.{name}")
        module.register(routes, api)
    return app
