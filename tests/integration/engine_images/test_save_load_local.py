"""Images made here (busybox + two `pyctl commit` layers: three layers) survive a round trip:
save -> rmi -> load gives the same image id, layers and history, and it runs; push -> rmi ->
pull gives the same manifest digest and image id, and it runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine
from img_harness import three_layers

pytestmark = [pytest.mark.root]


def inspect(engine: ContainerEngine, image: str) -> dict:
    return json.loads(engine.out("image", "inspect", image))[0]


def history(engine: ContainerEngine, image: str) -> list[str]:
    return engine.out("history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}}",
                      image).splitlines()


def assert_runs(engine: ContainerEngine, image: str) -> None:
    run = engine.pyctl("run", "--rm", image, "cat", "/one", "/two")
    assert (run.returncode, run.stdout.decode()) == (0, "local/saved\ntwo\n"), run.stderr


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_save_rmi_load_gives_the_same_image(engine: ContainerEngine, tmp_path: Path,
                                            fmt: str) -> None:
    image_id = three_layers(engine, "local/saved")
    before = inspect(engine, "local/saved")
    assert before["Id"] == image_id and len(before["RootFS"]["Layers"]) == 3
    steps = history(engine, "local/saved")
    archive = tmp_path / "saved.tar"
    try:
        engine.out("save", "--format", fmt, "-o", str(archive), "local/saved")
        removed = engine.out("rmi", "local/saved")
        assert f"Deleted: {image_id}" in removed
        assert "local/saved" not in engine.out("images", "--format", "{{.Repository}}")
        loaded = engine.out("load", "-i", str(archive))
        assert "Loaded image: local/saved:latest" in loaded
        after = inspect(engine, "local/saved")
        assert after["Id"] == image_id
        assert after["RootFS"] == before["RootFS"]
        assert after["Config"] == before["Config"]
        assert history(engine, "local/saved") == steps
        assert_runs(engine, "local/saved")
    finally:
        engine.pyctl("rmi", "local/saved")


def test_push_rmi_pull_gives_the_same_image(engine: ContainerEngine, registry) -> None:
    image_id = three_layers(engine, "local/saved")
    remote = f"{registry.host}/local/saved:v3"
    engine.out("tag", "local/saved", remote)
    try:
        digest = engine.out("push", remote).splitlines()[-1].split()[2]
        assert digest.startswith("sha256:")
        layers = inspect(engine, remote)["RootFS"]["Layers"]
        engine.out("rmi", remote, "local/saved")
        assert image_id[7:19] not in engine.out("images", "-q")
        pulled = engine.out("pull", remote).splitlines()
        assert f"Digest: {digest}" in pulled
        after = inspect(engine, remote)
        assert after["Id"] == image_id
        assert after["RootFS"]["Layers"] == layers
        assert f"{registry.host}/local/saved@{digest}" in after["RepoDigests"]
        assert_runs(engine, remote)
    finally:
        engine.pyctl("rmi", remote, "local/saved")
