"""Volume integration fixtures: the container tests' engines (tests/integration/
engine_containers), plus the clean-up of what volumes mount under the data root."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ctr_harness import ContainerEngine


def _containers_conftest() -> ModuleType:
    """tests/integration/engine_containers/conftest.py under a name of its own (both files
    are "conftest" to Python)."""
    path = Path(__file__).resolve().parents[1] / "engine_containers" / "conftest.py"
    spec = importlib.util.spec_from_file_location("engine_containers_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ctr = _containers_conftest()
launcher, busybox_tar, make_engine = _ctr.launcher, _ctr.busybox_tar, _ctr.make_engine

pytestmark = [pytest.mark.root]


def volume_mounts(engine: ContainerEngine) -> list[str]:
    """Mount points under the engine's volumes directory (from our mount table)."""
    root = str(engine.data_root / "volumes") + "/"
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4]
            if point.startswith(root):
                found.append(point)
    return found


@pytest.fixture(scope="module")
def engine(make_engine: Callable[[], ContainerEngine]) -> Iterator[ContainerEngine]:
    """One daemon per module (the container tests' make_engine); the volume mounts it leaves
    are unmounted by path before make_engine's clean-up removes its base directory."""
    eng = make_engine()
    try:
        yield eng
    finally:
        if eng.process is not None and eng.process.poll() is None:
            left = eng.ids()
            if left:
                eng.pyctl("rm", "-f", *left)
        eng.stop()
        for point in reversed(volume_mounts(eng)):
            subprocess.run(["umount", "-l", point], check=False, stderr=subprocess.DEVNULL)


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    path = tmp_path / "host"
    path.mkdir()
    return path


