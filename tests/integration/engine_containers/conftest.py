"""Container integration fixtures: real pyengined processes (each in a network namespace of its
own, on a private data root and exec root), the offline busybox image, pyrunc's launcher for this
checkout. Everything a test leaves is cleaned by id, pid and path, even when it fails."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - a fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ctr_harness import (
    ContainerEngine,
    busybox_rootfs,
    cleanup,
    install_launcher,
    install_pyrunc_shim,
    stop_zygote,
)
from engine_harness import new_base

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_launcher(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("bb"))


@pytest.fixture(scope="module")
def make_engine(launcher: Path, busybox_tar: Path
                ) -> Iterator[Callable[..., ContainerEngine]]:
    started: list[ContainerEngine] = []

    def make(module_network: bool = False, config: dict | None = None) -> ContainerEngine:
        engine = ContainerEngine(new_base(), {"default-runtime": str(launcher), **(config or {})})
        engine.module_network = module_network
        engine.launcher = launcher  # type: ignore[attr-defined]  # for cleanup
        started.append(engine)
        engine.start()
        engine.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest",
                     check=True)
        return engine

    try:
        yield make
    finally:
        for engine in started:
            cleanup(engine)


@pytest.fixture(scope="module")
def engine(make_engine: Callable[[], ContainerEngine]) -> ContainerEngine:
    return make_engine()


@pytest.fixture(scope="module")
def pyrunc_shim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """containerd-shim-pyrunc-v2's launcher for this checkout; its zygote is ended after the
    module (by pid)."""
    launcher = install_pyrunc_shim(tmp_path_factory.mktemp("shim"))
    try:
        yield launcher
    finally:
        stop_zygote(launcher)


@pytest.fixture(autouse=True)
def no_container_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that fails half-way must not leave containers for the next test of the module
    (which may count them): whatever the shared engine still holds is removed after each."""
    yield
    if "engine" in request.fixturenames:
        engine: ContainerEngine = request.getfixturevalue("engine")
        left = engine.ids()
        if left:
            engine.pyctl("rm", "-f", *left)
