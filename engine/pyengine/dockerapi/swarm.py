"""/swarm and the swarm-manager resources: this daemon has no swarm mode, so they answer as
dockerd 20.10 does on a node that is in no swarm (503 with its texts). Clients rely on that:
docker-py's `leave_swarm(force=True)` takes dockerd's 503 as "nothing to leave"; a 404 would
be an error to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from pyengine.dockerapi.errors import HttpError

if TYPE_CHECKING:
    from pyengine.dockerapi.context import ApiContext
    from pyengine.dockerapi.routes import Routes

NO_SWARM = "This node is not part of a swarm"
NO_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
              "to connect this node to swarm and try again.")
# dockerd 20.10 outside a swarm: leaving says there is none, the rest that a manager is needed
MANAGER_PATHS = (("GET", "/swarm"), ("POST", "/swarm/update"), ("GET", "/swarm/unlockkey"),
                 ("GET", "/nodes"), ("GET", "/services"), ("GET", "/tasks"),
                 ("GET", "/secrets"), ("GET", "/configs"))


async def no_swarm(request: web.Request) -> web.StreamResponse:
    raise HttpError(503, NO_SWARM)


async def no_manager(request: web.Request) -> web.StreamResponse:
    raise HttpError(503, NO_MANAGER)


def register(routes: Routes, api: ApiContext) -> None:
    routes.post("/swarm/leave", no_swarm)
    for method, path in MANAGER_PATHS:
        routes.add(method, path, no_manager)
