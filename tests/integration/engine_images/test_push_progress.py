"""pyctl push of an image made locally (busybox + two committed layers): docker's progress.

The texts and their order were read from docker 28's CLI pushing from a private dockerd 20.10
(--max-concurrent-uploads=1) to Debian's docker-registry: one line per layer, its diff ID's
short form, top layer first; every layer "Preparing", those that cannot start "Waiting", then
"Pushed" ("Pushing" with byte counts only on a terminal), "Layer already exists" when the
registry has it, "Mounted from <repository>" for a cross-repository mount, and the closing
"<tag>: digest: <manifest digest> size: <manifest bytes>". The module's engine uploads one
layer at a time, so the sequence is the same every run.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from ctr_harness import ContainerEngine
from img_harness import diff_ids, push_events, registry_manifest, three_layers

pytestmark = [pytest.mark.root]

BIG = 3_000_000  # random bytes in the top layer: a gzip blob of about that size


def expected_lines(host: str, repo: str, shorts: list[str], final: list[str],
                   manifest: bytes) -> list[str]:
    top_first = list(reversed(shorts))
    return [
        "Using default tag: latest",
        f"The push refers to repository [{host}/{repo}]",
        *[f"{s}: Preparing" for s in top_first],
        *[f"{s}: Waiting" for s in top_first[1:]],
        *[f"{s}: {status}" for s, status in zip(top_first, final, strict=True)],
        f"latest: digest: sha256:{hashlib.sha256(manifest).hexdigest()} size: {len(manifest)}",
    ]


def test_push_progress_is_dockers(engine: ContainerEngine, registry) -> None:
    three_layers(engine, "prog/three")
    shorts = [d[7:19] for d in diff_ids(engine, "prog/three")]
    assert len(shorts) == 3
    remote = f"{registry.host}/prog/three"
    engine.out("tag", "prog/three", remote)
    try:
        first = engine.out("push", remote).splitlines()
        manifest = registry_manifest(registry.host, "prog/three", "latest")
        assert first == expected_lines(registry.host, "prog/three", shorts,
                                       ["Pushed"] * 3, manifest)
        again = engine.out("push", remote).splitlines()
        assert again == expected_lines(registry.host, "prog/three", shorts,
                                       ["Layer already exists"] * 3, manifest)
        # the digest pyctl printed is the one the registry serves, and the image's RepoDigest
        doc = json.loads(engine.out("image", "inspect", remote))[0]
        assert f"{remote}@sha256:{hashlib.sha256(manifest).hexdigest()}" in doc["RepoDigests"]
    finally:
        engine.pyctl("rmi", remote, "prog/three")


def test_push_reports_bytes_while_pushing(engine: ContainerEngine, registry) -> None:
    three_layers(engine, "prog/big", big=BIG)
    shorts = [d[7:19] for d in diff_ids(engine, "prog/big")]
    remote = f"{registry.host}/prog/big:v1"
    engine.out("tag", "prog/big", remote)
    try:
        events = push_events(engine, remote)
        manifest = json.loads(registry_manifest(registry.host, "prog/big", "v1"))
        sizes = {d[7:19]: layer["size"] for d, layer in
                 zip(diff_ids(engine, "prog/big"), manifest["layers"], strict=True)}
        top = shorts[-1]
        pushing = [e for e in events if e.id == top and e.status == "Pushing"]
        assert sizes[top] > BIG  # random bytes do not compress
        assert [e.total for e in pushing] == [sizes[top]] * len(pushing)
        counts = [e.current for e in pushing]
        assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == sizes[top]
        assert len(set(counts)) >= 2  # something between "nothing sent" and "all sent"
        for short in shorts:
            mine = [e.status for e in events if e.id == short]
            assert mine[0] == "Preparing" and mine[-1] == "Pushed", (short, mine)
        assert events[-1].id == ""
        assert events[-1].status.startswith("v1: digest: sha256:")
    finally:
        engine.pyctl("rmi", remote, "prog/big")
