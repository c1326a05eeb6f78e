"""Docker Engine API integration fixtures (the shared harness of tests/integration/dockerapi).

One real pyengined per test module, in the module's own network namespace
(tests/fixtures/netns.py, as tests/integration/engine_network does: 127.0.0.1, published ports
and a `registry` fixture are the test's, nothing reaches the machine's network), with the
offline busybox image and pyrunc's launcher of this checkout. Its Docker Engine API is served on
its default socket, EXEC_ROOT/docker.sock.

Fixtures:
  engine         the module's daemon (ctr_harness.ContainerEngine; `engine.pyctl(...)`)
  api            api_harness.DockerApi: .socket, .host, .http(method, path, body, headers),
                 .docker(*args, input=None, check=True), .client() (docker-py), .env()
  docker_socket  the socket's path
  http           api.http: raw HTTP over the socket -> Reply(status, reason, headers, body)
  docker_cli     api.docker: the docker CLI 28 with DOCKER_HOST=unix://SOCK and a private
                 DOCKER_CONFIG -> CompletedProcess (text)
  registry       tests/fixtures/registry.py's docker-registry on 127.0.0.1 (function scope)

Containers, user networks and volumes a test leaves are removed after it; the daemon, its
mounts and directories after the module (by id, pid and path), also when a test failed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - a fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_network"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_harness import DockerApi, docker_api_of, remove_volumes
from ctr_harness import ContainerEngine, busybox_rootfs, install_launcher
from net_harness import network_engine, remove_everything

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="session")
def api_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_launcher(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="session")
def api_busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("bb"))


@pytest.fixture(scope="module")
def engine(api_launcher: Path, api_busybox_tar: Path) -> Iterator[ContainerEngine]:
    """The module's daemon with busybox:latest (net_harness.network_engine)."""
    with network_engine(api_launcher, api_busybox_tar) as engine:
        yield engine


@pytest.fixture(scope="module")
def api(engine: ContainerEngine, tmp_path_factory: pytest.TempPathFactory) -> DockerApi:
    return docker_api_of(engine, tmp_path_factory.mktemp("docker-config"))


@pytest.fixture(scope="module")
def docker_socket(api: DockerApi) -> Path:
    return api.socket


@pytest.fixture(scope="module")
def http(api: DockerApi) -> Callable[..., object]:
    return api.http


@pytest.fixture(scope="module")
def docker_cli(api: DockerApi) -> Callable[..., subprocess.CompletedProcess]:
    return api.docker


@pytest.fixture(autouse=True)
def nothing_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Containers, user networks and volumes a test leaves are removed after it (the next test
    of the module may count them)."""
    yield
    if "engine" in request.fixturenames:
        engine: ContainerEngine = request.getfixturevalue("engine")
        remove_everything(engine)
        remove_volumes(engine)
