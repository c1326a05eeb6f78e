"""The same Dockerfiles built by `pyctl build` and by Debian's `buildah bud` (1.28) give images
with the same config (Cmd, Env, WorkingDir, ExposedPorts, Volumes, Labels) and the same files
(every path of the flattened layers: type, mode, owner, size, content hash, link target; mtimes
are each builder's own).

buildah gets the very base images the engine has (`pyctl save` -> `buildah pull
docker-archive:`), builds on a storage root of its own with chroot isolation (no runtime), and
its result is exported as a docker-archive (`buildah push docker-archive:`), read like ours.
Expected differences, nothing else (both checked against dockerd 20.10's BuildKit on these
fixtures: BuildKit and buildah differ in exactly these two, so they are buildah's, not ours):
- buildah labels every image `io.buildah.version` (1.28 cannot leave it out);
- buildah's chroot isolation bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf into
  RUN steps, creating them in the rootfs when the base lacks them, and commits them as empty
  files (0755); docker's builders and ours leave such mount points out of the layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import build_daemon
import pytest
from build_peers import (
    FIXTURES,
    ArchiveImage,
    Buildah,
    Entry,
    buildah_at,
    demo_images,
    listing_diff,
    pyctl_build,
    rootfs_listing,
)
from ctr_harness import ContainerEngine

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

# the module's daemon and the clean-up after each test (fixtures)
engine = build_daemon.engine
nothing_outlives_its_test = build_daemon.nothing_outlives_its_test
pytestmark = [pytest.mark.root, pytest.mark.slow]

BUILDAH_LABEL = "io.buildah.version"
RUN_MOUNT_POINTS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")
BASES = ("busybox:latest", "pyengine-demo/web:latest", "pyengine-demo/nginx:latest")


@pytest.fixture(scope="module")
def buildah(engine: ContainerEngine, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Buildah]:
    """buildah with the engine's base images (the same image IDs)."""
    demo_images(engine)
    work = tmp_path_factory.mktemp("bases")
    with buildah_at(tmp_path_factory.mktemp("buildah") / "storage") as peer:
        for base in BASES:
            archive = work / (base.replace("/", "_").replace(":", "_") + ".tar")
            engine.out("save", "-o", str(archive), base)
            peer.load(archive)
        yield peer


def without_buildahs_mount_points(ours: dict[str, Entry], theirs: dict[str, Entry],
                                  has_run: bool) -> dict[str, Entry]:
    """buildah's listing less the RUN mount points it committed (the second expected
    difference), each checked to be that: only in its image, empty, and only after a RUN."""
    out = dict(theirs)
    for path in RUN_MOUNT_POINTS:
        if path in theirs and path not in ours:
            assert has_run, f"{path} in buildah's image without a RUN step"
            assert theirs[path].kind == "file" and theirs[path].size == 0, theirs[path]
            del out[path]
    return out


@pytest.mark.parametrize("fixture", ["small", "multistage", "dockerignore", "cache",
                                     "nginx-flask", "flaskapp"])
def test_same_config_and_files_as_buildah(engine: ContainerEngine, buildah: Buildah,
                                          tmp_path: Path, fixture: str) -> None:
    tag = f"compat-{fixture}:latest"
    built = pyctl_build(engine, FIXTURES / fixture, "-t", tag)
    assert built.returncode == 0, built.output[-4000:]
    engine.out("save", "-o", str(tmp_path / "ours.tar"), tag)
    ours = ArchiveImage.read(tmp_path / "ours.tar")
    buildah.bud(FIXTURES / fixture, tag)
    theirs = ArchiveImage.read(buildah.save(tag, tmp_path / "theirs.tar"))

    mine, other = ours.fields(), theirs.fields()
    labels = dict(other["Labels"]) if isinstance(other["Labels"], dict) else {}
    assert labels.pop(BUILDAH_LABEL, None) is not None
    other["Labels"] = labels
    mine["Labels"] = mine["Labels"] or {}  # docker's null for no labels
    assert mine == other

    files = rootfs_listing(ours)
    has_run = "RUN " in (FIXTURES / fixture / "Dockerfile").read_text()
    assert listing_diff(files, without_buildahs_mount_points(
        files, rootfs_listing(theirs), has_run)) == []
    assert len(files) > 10  # a whole rootfs was compared, not an empty one
