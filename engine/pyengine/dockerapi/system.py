"""System endpoints: /_ping, /version, /info, /events, /system/df, /auth (docker 20.10's)."""

from __future__ import annotations

from aiohttp import web

from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.routes import Routes
from pyengine.dockerapi.versioning import API_VERSION

# dockerd's /_ping headers (the CLI and docker-py negotiate their API version from them)
PING_HEADERS = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Builder-Version": "1",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}


async def ping(request: web.Request) -> web.StreamResponse:
    body = "" if request.method == "HEAD" else "OK"
    return web.Response(text=body, headers=PING_HEADERS, content_type="text/plain",
                        charset="utf-8")


def register(routes: Routes, api: ApiContext) -> None:
    routes.get("/_ping", ping)
    routes.head("/_ping", ping)
