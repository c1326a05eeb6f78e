"""What the network and volume REST tests use (`nv`, over the shared harness's `engine` and
`api`): the docker CLI 28 with bytes output, raw HTTP answers as (status, JSON), docker-py,
pyctl, and `run` (docker run) for containers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from api_harness import DockerApi
from ctr_harness import ContainerEngine


class NetVol:
    """The module's daemon as these tests drive it."""

    def __init__(self, engine: ContainerEngine, api: DockerApi) -> None:
        self.engine = engine
        self.api = api

    @property
    def data_root(self) -> Path:
        return self.engine.data_root

    def pyctl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return self.engine.pyctl(*args, check=check)

    def out(self, *args: str) -> str:
        return self.engine.out(*args)

    def run(self, *args: str) -> str:
        """`docker run ARGS`'s output."""
        return self.docker("run", *args, check=True).stdout.decode()

    def docker(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        """The docker CLI 28 (bytes output; not checked unless `check`)."""
        return self.api.docker(*args, input=b"", check=check)

    def docker_json(self, *args: str) -> Any:
        return json.loads(self.docker(*args, check=True).stdout)

    def http(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A raw request on the docker socket: (status, decoded JSON body or None)."""
        reply = self.api.http(method, path, body)
        return reply.status, reply.json() if reply.body.strip() else None

    def client(self) -> Any:
        return self.api.client()


@pytest.fixture(name="nv")
def nv_fixture(engine: ContainerEngine, api: DockerApi) -> NetVol:
    return NetVol(engine, api)
