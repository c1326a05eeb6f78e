"""Cross-repository mounts from where each blob is known to be.

The engine remembers, per blob, the registry repositories it was pulled from or pushed to; a
push to another repository of the same registry offers `mount=<digest>&from=<repository>` for
each blob the registry lacks there, and uploads when the registry answers 202 instead of 201
(forgetting that source). Blobs the garbage collector removes lose their sources. All against
Debian's docker-registry; docker 20.10 shows the same "Mounted from <repository>" lines.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from ctr_harness import ContainerEngine
from img_harness import (
    blob_sources,
    commit_layer,
    diff_ids,
    layer_lines,
    registry_manifest,
    three_layers,
)

pytestmark = [pytest.mark.root]


def final_status(output: str) -> dict[str, str]:
    return {ident: statuses[-1] for ident, statuses in layer_lines(output.splitlines()).items()}


def layer_digests(host: str, repo: str, tag: str = "latest") -> list[str]:
    manifest = json.loads(registry_manifest(host, repo, tag))
    return [layer["digest"] for layer in manifest["layers"]]


def test_layers_mount_from_the_repository_they_were_pushed_to(
        engine: ContainerEngine, registry) -> None:
    host = registry.host
    three_layers(engine, "mnt/base")
    commit_layer(engine, "mnt/base", "echo four > /four", "mnt/four")
    base_ids = [d[7:19] for d in diff_ids(engine, "mnt/base")]
    four_ids = [d[7:19] for d in diff_ids(engine, "mnt/four")]
    engine.out("tag", "mnt/base", f"{host}/src/base")
    engine.out("tag", "mnt/four", f"{host}/dst/four")
    engine.out("tag", "mnt/four", f"{host}/dst/four-again")
    try:
        pushed = final_status(engine.out("push", f"{host}/src/base"))
        assert pushed == dict.fromkeys(base_ids, "Pushed")
        base_blobs = layer_digests(host, "src/base")
        assert {(d, host, "src/base") for d in base_blobs} <= blob_sources(engine)
        # mnt/four has no name in src/: only the blobs' recorded sources point there
        four = final_status(engine.out("push", f"{host}/dst/four"))
        assert four == {**dict.fromkeys(base_ids, "Mounted from src/base"),
                        four_ids[-1]: "Pushed"}
        assert layer_digests(host, "dst/four")[:3] == base_blobs
        assert {(d, host, "dst/four") for d in layer_digests(host, "dst/four")} <= \
            blob_sources(engine)
        # the most recent source first: the same image again mounts everything from dst/four
        again = final_status(engine.out("push", f"{host}/dst/four-again"))
        assert again == dict.fromkeys(four_ids, "Mounted from dst/four")
    finally:
        engine.pyctl("rmi", f"{host}/src/base", f"{host}/dst/four", f"{host}/dst/four-again",
                     "mnt/four", "mnt/base")
    # the committed layers' blobs are gone (GC) and so are their sources; busybox's stays
    kept = blob_sources(engine)
    four_blobs = layer_digests(host, "dst/four")
    assert not [row for row in kept if row[0] in four_blobs[1:]]
    assert (four_blobs[0], host, "src/base") in kept


def test_a_pulled_image_mounts_from_where_it_came_from(engine: ContainerEngine,
                                                       registry) -> None:
    host = registry.host
    three_layers(engine, "pulled/base")
    remote = f"{host}/origin/base"
    engine.out("tag", "pulled/base", remote)
    engine.out("push", remote)
    engine.out("rmi", remote, "pulled/base")
    ids = [d[7:19] for d in diff_ids(engine, "busybox")]
    try:
        engine.out("pull", remote)
        lower = [d[7:19] for d in diff_ids(engine, remote)]
        assert lower[0] == ids[0]
        commit_layer(engine, remote, "echo more > /more", "pulled/more")
        top = diff_ids(engine, "pulled/more")[-1][7:19]
        engine.out("tag", "pulled/more", f"{host}/elsewhere/more")
        out = final_status(engine.out("push", f"{host}/elsewhere/more"))
        assert out == {**dict.fromkeys(lower, "Mounted from origin/base"), top: "Pushed"}
    finally:
        engine.pyctl("rmi", f"{host}/elsewhere/more", "pulled/more", remote)


def test_a_refused_mount_falls_back_to_an_upload(engine: ContainerEngine, registry) -> None:
    host = registry.host
    commit_layer(engine, "busybox", "echo solo > /solo", "mnt/solo")
    ids = [d[7:19] for d in diff_ids(engine, "mnt/solo")]
    engine.out("tag", "mnt/solo", f"{host}/src/solo")
    engine.out("tag", "mnt/solo", f"{host}/dst/solo")
    try:
        engine.out("push", f"{host}/src/solo")
        base_blob, top_blob = layer_digests(host, "src/solo")
        # the registry forgets src/solo's link to the top layer: a mount from there is refused
        request = urllib.request.Request(f"http://{host}/v2/src/solo/blobs/{top_blob}",
                                         method="DELETE")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 202
        assert (top_blob, host, "src/solo") in blob_sources(engine)
        out = final_status(engine.out("push", f"{host}/dst/solo"))
        assert out == {ids[0]: "Mounted from src/solo", ids[1]: "Pushed"}
        sources = blob_sources(engine)
        assert (top_blob, host, "src/solo") not in sources  # refused: forgotten
        assert {(top_blob, host, "dst/solo"), (base_blob, host, "src/solo")} <= sources
        # what was uploaded after the refusal is whole: pull it back into an empty store
        engine.out("rmi", f"{host}/dst/solo", f"{host}/src/solo", "mnt/solo")
        engine.out("pull", f"{host}/dst/solo")
        run = engine.pyctl("run", "--rm", f"{host}/dst/solo", "cat", "/solo")
        assert (run.returncode, run.stdout) == (0, b"solo\n"), run.stderr
    finally:
        engine.pyctl("rmi", f"{host}/dst/solo", f"{host}/src/solo", "mnt/solo")
