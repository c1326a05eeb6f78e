"""Network integration fixtures: one real pyengined per test module, in the module's own network
namespace (tests/fixtures/netns.py: pytest's thread is there too, so 127.0.0.1 and published
ports of the daemon are the test's, and nothing reaches the machine's network), the offline
busybox image, pyrunc's launcher for this checkout. Containers, networks and the daemon are
removed by id and pid even when a test fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ctr_harness import ContainerEngine, busybox_rootfs, install_launcher
from net_harness import network_engine, remove_everything

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="session")
def net_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_launcher(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="session")
def net_busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("bb"))


@pytest.fixture(scope="module")
def engine(net_launcher: Path, net_busybox_tar: Path) -> Iterator[ContainerEngine]:
    """The module's daemon (net_harness.network_engine)."""
    with network_engine(net_launcher, net_busybox_tar) as engine:
        yield engine


@pytest.fixture(autouse=True)
def nothing_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Containers and user networks a test leaves are removed after it (the next test of the
    module may count them)."""
    yield
    if "engine" in request.fixturenames:
        remove_everything(request.getfixturevalue("engine"))
