"""/volumes: list, create, inspect, remove, prune over VolumeService (every call blocks: the
worker pool), as the gRPC edge (services/volumes.py) calls it; the documents are the domain's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.body import json_body, mapping
from pyengine.dockerapi.query import filter_items, flag

if TYPE_CHECKING:
    from pyengine.dockerapi.context import ApiContext
    from pyengine.dockerapi.routes import Routes
    from pyengine.volumes.service import VolumeService


def _listing(volumes: VolumeService, wanted: list[str]) -> dict[str, Any]:
    return {"Volumes": [volumes.document(v) for v in volumes.list(wanted)], "Warnings": None}


def _create(volumes: VolumeService, body: dict[str, Any]) -> dict[str, Any]:
    v = volumes.create(str(body.get("Name") or ""), str(body.get("Driver") or ""),
                       mapping(body, "DriverOpts"), mapping(body, "Labels"))
    return volumes.document(v)


def register(routes: Routes, api: ApiContext) -> None:
    """(the domain is looked up per request: routes are registered before, or without, an
    engine)"""

    async def list_volumes(request: web.Request) -> web.StreamResponse:
        found = await api.workers.run(_listing, api.engine.volumes, filter_items(request))
        return json_response(found)

    async def create(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        return json_response(await api.workers.run(_create, api.engine.volumes, body), 201)

    async def inspect(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        return json_response(await api.workers.run(api.engine.volumes.inspect, name))

    async def remove(request: web.Request) -> web.StreamResponse:
        await api.workers.run(api.engine.volumes.remove, request.match_info["name"],
                              flag(request, "force"))
        return web.Response(status=204)

    async def prune(request: web.Request) -> web.StreamResponse:
        gone, freed = await api.workers.run(api.engine.volumes.prune, filter_items(request))
        return json_response({"VolumesDeleted": gone, "SpaceReclaimed": freed})  # [] if none

    routes.get("/volumes", list_volumes)
    routes.post("/volumes/create", create)
    routes.post("/volumes/prune", prune)
    routes.get("/volumes/{name}", inspect)
    routes.delete("/volumes/{name}", remove)
