"""The aiohttp application: middlewares (version check, errors) and every resource's routes."""

from __future__ import annotations

import importlib
import json
import logging
from typing import Any

from aiohttp import web

from pyengine import __version__
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.errors import status_for
from pyengine.dockerapi.routes import Handler, Routes
from pyengine.dockerapi.versioning import API_VERSION, check

log = logging.getLogger("pyengine.dockerapi")

# one module per resource, each with `register(routes: Routes, api: ApiContext) -> None`
RESOURCES = ("system", "attach", "logs", "execs")

API_KEY = web.AppKey("api", ApiContext)
MAX_JSON_BODY = 16 << 20  # request.read() limit; archives and contexts are streamed


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def json_response(body: Any, status: int = 200) -> web.Response:
    """docker's encoding: compact JSON with a trailing newline."""
    text = json.dumps(body, separators=(",", ":")) + "\n"
    return web.Response(text=text, status=status, content_type="application/json")


@web.middleware
async def version_and_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    prefix = request.match_info.get("version", "")
    if prefix:
        refusal = check(prefix[1:])
        if refusal is not None:
            return error_response(400, refusal)
    try:
        response = await handler(request)
    except web.HTTPException:
        raise
    except Exception as err:  # the one place engine errors become HTTP statuses
        status, message = status_for(err)
        if status >= 500:
            log.error("request failed", extra={"fields": {
                "method": request.method, "path": request.path, "error": message}})
        return error_response(status, message)
    response.headers.setdefault("Api-Version", API_VERSION)
    response.headers.setdefault("Server", f"pyengined/{__version__} (linux)")
    return response


def build_app(api: ApiContext) -> web.Application:
    app = web.Application(middlewares=[version_and_errors], client_max_size=MAX_JSON_BODY)
    app[API_KEY] = api
    routes = Routes(app.router)
    for name in RESOURCES:
        module = importlib.import_module(f"pyengine.dockerapi.{name}")
        module.register(routes, api)
    return app
