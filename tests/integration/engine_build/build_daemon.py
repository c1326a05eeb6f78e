"""The daemon of the walk-through, registry and buildah tests (pytest fixtures; a test module
imports them, with tests.fixtures.netns's module_network_namespace): one pyengined per module
in the module's network namespace (net_harness.network_engine: 127.0.0.1 and published ports
are the test's, the registry fixture listens there too) with the offline busybox image;
containers and user networks a test leaves are removed after it, the daemon and its
directories after the module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

for _harness in ("engine", "engine_containers", "engine_network"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _harness))

from ctr_harness import ContainerEngine, busybox_rootfs, install_launcher  # noqa: E402
from net_harness import network_engine, remove_everything  # noqa: E402


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerEngine]:
    launcher = install_launcher(tmp_path_factory.mktemp("bin"))
    with network_engine(launcher, busybox_rootfs(tmp_path_factory.mktemp("bb"))) as daemon:
        yield daemon


@pytest.fixture(autouse=True)
def nothing_outlives_its_test(engine: ContainerEngine) -> Iterator[None]:
    yield
    remove_everything(engine)
