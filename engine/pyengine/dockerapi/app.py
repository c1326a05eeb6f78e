"""The aiohttp application: its middleware (version check, errors) and every resource's routes."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from pyengine import __version__
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.errors import status_for
from pyengine.dockerapi.routes import Handler, Routes, Wrap
from pyengine.dockerapi.versioning import API_VERSION, check

log = logging.getLogger("pyengine.dockerapi")

# one module per resource, each with `register(routes: Routes, api: ApiContext) -> None`
RESOURCES = ("system", "images", "build", "containers", "networks", "volumes", "attach",
             "logs", "execs", "swarm")

API_KEY = web.AppKey("api", ApiContext)
MAX_JSON_BODY = 16 << 20  # request.read() limit; archives and contexts are streamed
PREPARED = web.RequestKey("prepared", bool)  # its response's headers were sent
SERVER = f"pyengined/{__version__} (linux)"


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
    except web.HTTPException:  # aiohttp's own (a body over the size limit): its answer
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


def answering(handler: Handler) -> Handler:
    """`handler` behind `answer` (the daemon's edge wraps it with its stream tracking too)."""
    async def endpoint(request: web.Request) -> web.StreamResponse:
        return await answer(request, handler)

    return endpoint


async def page_not_found(request: web.Request) -> web.StreamResponse:
    """Any path no route has, any method: docker's 404."""
    return error_response(404, "page not found")


def docker_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, streams included (their headers go before the handler returns)."""
    request[PREPARED] = True
    headers = response.headers
    if "Api-Version" not in headers:
        headers["Api-Version"] = API_VERSION
    headers["Server"] = SERVER  # aiohttp put its own in before this hook


def build_app(api: ApiContext, wrap: Wrap = answering,
              on_prepare: Callable[[web.Request, web.StreamResponse], None] | None = None,
              extra: Callable[[Routes], None] | None = None) -> web.Application:
    """Every resource's routes, each handler wrapped by `wrap` (which must call `answer`), and
    no middleware. Before any response's headers go out: `docker_headers`, then `on_prepare`.
    `extra` adds routes of its own (tests) before the fallback, docker's 404."""
    app = web.Application(client_max_size=MAX_JSON_BODY)
    if on_prepare is None:
        async def prepare(request: web.Request, response: web.StreamResponse) -> None:
            docker_headers(request, response)
    else:
        also = on_prepare

        async def prepare(request: web.Request, response: web.StreamResponse) -> None:
            docker_headers(request, response)
            also(request, response)
    app.on_response_prepare.append(prepare)
    app[API_KEY] = api
    routes = Routes(app.router, wrap)
    for name in RESOURCES:
        module = importlib.import_module(f"pyengine.dockerapi.{name}")
        module.register(routes, api)
    if extra is not None:
        extra(routes)
    routes.fallback(page_not_found)
    return app
