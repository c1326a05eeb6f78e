"""Built images shipped: `pyctl build` -> `pyctl push` to Debian's docker-registry on 127.0.0.1
-> `pyctl rmi` -> `pyctl pull`: the same manifest digest and the same image ID, the registry's
copy read back by skopeo (an independent client: the manifest's bytes hash to the pushed
digest, its config blob's digest is the image ID), and the pulled image runs.

The same round trip of a `pyctl commit`'ed image is the control: it runs without the build
(it passed before `pyctl build` existed), so a failure only in the build's case is the
built image's (its layers, config or manifest), not the registry's or the harness's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import build_daemon
import pytest
from build_peers import FIXTURES, pyctl_build
from ctr_harness import ContainerEngine

from tests.fixtures import images
from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - the fixture

# the module's daemon and the clean-up after each test (fixtures)
engine = build_daemon.engine
nothing_outlives_its_test = build_daemon.nothing_outlives_its_test
pytestmark = [pytest.mark.root]


def expected_sums() -> str:
    files = FIXTURES / "small" / "files"
    return "".join(f"{hashlib.sha256((files / name).read_bytes()).hexdigest()}  {name}\n"
                   for name in ("one.txt", "two.txt", "three.txt"))


def round_trip(engine: ContainerEngine, registry_host: str, local: str, repo: str,
               tmp_path: Path) -> str:
    """tag, push, rmi (every name: the image is gone), pull; checks digests and IDs; returns
    the pulled reference."""
    remote = f"{registry_host}/{repo}:v1"
    image_id = engine.out("image", "inspect", "-f", "{{.Id}}", local).strip()
    layers = json.loads(engine.out("image", "inspect", "-f", "{{json .RootFS.Layers}}", local))
    engine.out("tag", local, remote)
    pushed = engine.out("push", remote).splitlines()
    assert pushed[0] == f"The push refers to repository [{registry_host}/{repo}]"
    assert pushed[-1].startswith("v1: digest: sha256:"), pushed
    digest = pushed[-1].split()[2]

    # what the registry holds, read by skopeo: the manifest we pushed, our config
    copy = tmp_path / "skopeo"
    manifest = images.skopeo_pull(remote, copy)
    assert "sha256:" + hashlib.sha256((copy / "manifest.json").read_bytes()).hexdigest() == \
        digest
    assert manifest["config"]["digest"] == image_id
    assert len(manifest["layers"]) == len(layers)

    engine.out("rmi", remote)
    removed = engine.out("rmi", local)
    assert f"Deleted: {image_id}" in removed, removed
    assert engine.pyctl("image", "inspect", image_id).returncode != 0

    pulled = engine.out("pull", remote).splitlines()
    assert f"Digest: {digest}" in pulled, pulled
    assert pulled[-2] == f"Status: Downloaded newer image for {remote}", pulled
    assert engine.out("image", "inspect", "-f", "{{.Id}}", remote).strip() == image_id
    repo_digests = json.loads(engine.out("image", "inspect", "-f", "{{json .RepoDigests}}",
                                         remote))
    assert repo_digests == [f"{registry_host}/{repo}@{digest}"]
    return remote


def test_committed_image_round_trip(engine: ContainerEngine, registry,  # noqa: F811
                                    tmp_path: Path) -> None:
    engine.out("run", "--name", "maker", "--network", "none", "busybox", "sh", "-c",
               "mkdir /app && echo committed > /app/note && rm /bin/vi")
    engine.out("commit", "-c", 'CMD ["cat", "/app/note"]', "maker", "committed:latest")
    remote = round_trip(engine, registry.host, "committed:latest", "made/committed", tmp_path)
    assert engine.out("run", "--rm", "--network", "none", remote) == "committed\n"
    assert engine.pyctl("run", "--rm", "--network", "none", remote, "test", "-e",
                        "/bin/vi").returncode == 1  # the whiteout came back with the pull


def test_built_image_round_trip(engine: ContainerEngine, registry,  # noqa: F811
                                tmp_path: Path) -> None:
    built = pyctl_build(engine, FIXTURES / "small", "-t", "built-small")
    assert built.returncode == 0, built.output[-4000:]
    remote = round_trip(engine, registry.host, "built-small:latest", "built/small", tmp_path)
    # the pulled image: its config (metadata steps) and its files (COPY, RUN with a removal)
    doc = json.loads(engine.out("image", "inspect", "-f", "{{json .Config}}", remote))
    assert doc["WorkingDir"] == "/app" and doc["ExposedPorts"] == {"8080/tcp": {}}
    assert {"APP_HOME=/app", "GREETING=hello"} <= set(doc["Env"])
    assert doc["Labels"] == {"org.example.bench": "small"}
    assert engine.out("run", "--rm", "--network", "none", remote) == expected_sums()
    assert engine.out("run", "--rm", "--network", "none", remote, "ls") == "SUMS\none.txt\n" \
        "two.txt\n"
