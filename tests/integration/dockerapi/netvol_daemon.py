"""A stand-in until A-core's `--docker-api` lands: pyengined with the REST edge served on the
unix socket named by PYENGINE_TEST_DOCKER_API (root-only, 0600), plus a bare /_ping when the
system resource is not there yet. Test-only: run as `python netvol_daemon.py <pyengined args>`."""

from __future__ import annotations

import importlib.util
import os
import sys

from aiohttp import web
from pyengine import daemon
from pyengine.dockerapi import app as dockerapi_app
from pyengine.dockerapi.context import ApiContext


async def _ping(request: web.Request) -> web.StreamResponse:
    return web.Response(text="OK", headers={"Api-Version": "1.41", "Ostype": "linux"})


class RestDaemon(daemon.Daemon):
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        await super().start()
        assert self.engine is not None and self.workers is not None and self.jobs is not None
        if importlib.util.find_spec("pyengine.dockerapi.system") is None:
            dockerapi_app.RESOURCES = tuple(r for r in dockerapi_app.RESOURCES if r != "system")
        application = dockerapi_app.build_app(ApiContext(self.engine, self.workers, self.jobs))
        if "system" not in dockerapi_app.RESOURCES:
            application.router.add_route("*", "/_ping", _ping)
            application.router.add_route("*", "/{version:v[0-9.]+}/_ping", _ping)
        self.runner = web.AppRunner(application)
        await self.runner.setup()
        path = os.environ["PYENGINE_TEST_DOCKER_API"]
        await web.UnixSite(self.runner, path).start()
        os.chmod(path, 0o600)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await super().stop()


if __name__ == "__main__":
    daemon.Daemon = RestDaemon  # type: ignore[misc]  # main() builds the stand-in
    sys.exit(daemon.main(sys.argv[1:]))
