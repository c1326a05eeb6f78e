"""Helpers of the image tests: images made locally (`pyctl commit` on busybox), the engine's
push progress as the gRPC stream sends it, what the engine remembers of blob sources."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from dataclasses import dataclass

from ctr_harness import ContainerEngine
from pyengine.api import images_pb2, images_pb2_grpc


def commit_layer(engine: ContainerEngine, base: str, script: str, name: str) -> str:
    """A new image `name`: `base` plus the layer `sh -c script` makes; returns its id."""
    cid = engine.out("create", base, "sh", "-c", script).strip()
    try:
        engine.out("start", "-a", cid)
        return engine.out("commit", cid, name).strip()
    finally:
        engine.pyctl("rm", "-f", cid)


def three_layers(engine: ContainerEngine, name: str, big: int = 0) -> str:
    """busybox + two committed layers (/one with `name` in it, /two with `big` random bytes
    too): a 3-layer image made here; returns its id."""
    step = f"{name}-step1"
    commit_layer(engine, "busybox", f"echo {name} > /one", step)
    script = "echo two > /two"
    if big:
        script += f" && head -c {big} /dev/urandom > /big"
    image_id = commit_layer(engine, step, script, name)
    engine.out("rmi", step)
    return image_id


def diff_ids(engine: ContainerEngine, image: str) -> list[str]:
    doc = json.loads(engine.out("image", "inspect", image))[0]
    return list(doc["RootFS"]["Layers"])


@dataclass(frozen=True)
class Event:
    id: str
    status: str
    current: int
    total: int


def push_events(engine: ContainerEngine, reference: str) -> list[Event]:
    """The engine's Push stream for `reference` (every message, byte counts included)."""
    with engine.channel() as channel:
        stream = images_pb2_grpc.ImagesServiceStub(channel).Push(
            images_pb2.PushRequest(reference=reference), timeout=300)
        return [Event(m.id, m.status, m.current, m.total) for m in stream if not m.result]


def layer_lines(lines: list[str]) -> dict[str, list[str]]:
    """`id: status` lines of a plain (not a terminal) progress output, per id, in order."""
    out: dict[str, list[str]] = {}
    for line in lines:
        ident, sep, status = line.partition(": ")
        if sep and len(ident) == 12 and all(c in "0123456789abcdef" for c in ident):
            out.setdefault(ident, []).append(status)
    return out


def blob_sources(engine: ContainerEngine) -> set[tuple[str, str, str]]:
    """(digest, registry, repository) rows the engine's metadata holds (read-only)."""
    path = engine.data_root / "metadata.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT digest, registry, repository FROM blob_sources").fetchall()
    return {(r[0], r[1], r[2]) for r in rows}


def registry_manifest(host: str, repo: str, tag: str) -> bytes:
    """The manifest bytes the registry serves for `repo:tag`."""
    request = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                           "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()
