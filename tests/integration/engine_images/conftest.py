"""Image integration fixtures: one real pyengined per test module in the module's network
namespace (tests/fixtures/netns.py), where the registry fixture (Debian's docker-registry)
listens on 127.0.0.1; the offline busybox image; images made locally with `pyctl commit`.
Containers and the daemon are removed by id and pid even when a test fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - a fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ctr_harness import ContainerEngine, busybox_rootfs, cleanup, install_launcher
from engine_harness import new_base

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="session")
def img_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_launcher(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="session")
def img_busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("bb"))


@pytest.fixture(scope="module")
def engine(img_launcher: Path, img_busybox_tar: Path) -> Iterator[ContainerEngine]:
    """The module's daemon, with one layer upload at a time: a push's progress is then the
    same sequence every run (docker's with --max-concurrent-uploads=1)."""
    engine = ContainerEngine(new_base(), {"default-runtime": str(img_launcher),
                                          "max-concurrent-uploads": 1})
    engine.module_network = True
    engine.launcher = img_launcher  # type: ignore[attr-defined]  # for cleanup
    try:
        engine.start()
        engine.pyctl("import", "-c", 'CMD ["sh"]', str(img_busybox_tar), "busybox:latest",
                     check=True)
        yield engine
    finally:
        cleanup(engine)


@pytest.fixture(autouse=True)
def no_container_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames:
        engine: ContainerEngine = request.getfixturevalue("engine")
        left = engine.ids()
        if left:
            engine.pyctl("rm", "-f", *left)
