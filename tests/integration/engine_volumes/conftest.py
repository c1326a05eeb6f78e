"""Volume integration fixtures: the container tests' engines (tests/integration/
engine_containers), plus the clean-up of what volumes mount under the data root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ctr_harness import ContainerEngine, cleanup
from engine_harness import REPO, new_base

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


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pyrunc.launcher import install

    return Path(install(str(tmp_path_factory.mktemp("bin") / "pyrunc")))


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bb") / "rootfs.tar"
    subprocess.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(path)], check=True,
                   capture_output=True)
    return path


@pytest.fixture(scope="module")
def engine(launcher: Path, busybox_tar: Path) -> Iterator[ContainerEngine]:
    """One daemon per module; volume mounts it leaves are unmounted by path before the
    container clean-up removes its base directory."""
    eng = ContainerEngine(new_base(), {"default-runtime": str(launcher)})
    eng.launcher = launcher  # type: ignore[attr-defined]  # for cleanup
    try:
        eng.start()
        eng.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest", check=True)
        yield eng
    finally:
        if eng.process is not None and eng.process.poll() is None:
            left = eng.ids()
            if left:
                eng.pyctl("rm", "-f", *left)
        eng.stop()
        for point in reversed(volume_mounts(eng)):
            subprocess.run(["umount", "-l", point], check=False, stderr=subprocess.DEVNULL)
        cleanup(eng)


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    path = tmp_path / "host"
    path.mkdir()
    return path


