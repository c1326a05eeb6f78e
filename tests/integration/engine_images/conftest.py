"""Image integration fixtures: one real pyengined per test module in the module's network
namespace (tests/fixtures/netns.py), where the registry fixture (Debian's docker-registry)
listens on 127.0.0.1 (the engine_network package's daemon helper, net_harness.network_engine);
the offline busybox image. Containers and the daemon are removed by id and pid even when a
test fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - a fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_network"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ctr_harness import ContainerEngine, busybox_rootfs, install_launcher
from net_harness import network_engine, remove_everything

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerEngine]:
    """The module's daemon, with one layer upload at a time: a push's progress is then the
    same sequence every run (docker's with --max-concurrent-uploads=1)."""
    launcher = install_launcher(tmp_path_factory.mktemp("bin"))
    busybox = busybox_rootfs(tmp_path_factory.mktemp("bb"))
    with network_engine(launcher, busybox, **{"max-concurrent-uploads": 1}) as engine:
        yield engine


@pytest.fixture(autouse=True)
def nothing_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Containers a test leaves are removed after it (the next test may count them)."""
    yield
    if "engine" in request.fixturenames:
        remove_everything(request.getfixturevalue("engine"))
