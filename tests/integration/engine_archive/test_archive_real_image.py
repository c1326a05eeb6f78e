"""The Debian + python3-flask bench image (when cached under tools/.cache): our unpack equals
umoci's, and the same layers in overlay snapshots (upper dirs, lowers=) mount as the same tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_treecompare import describe, differences
from pyengine.archive import apply_layer
from pyengine.snapshots import OverlaySnapshotter, mount_all, unmount_all

REPO_ROOT = Path(__file__).resolve().parents[3]
LAYOUTS = [(REPO_ROOT / "tools/.cache/bench-flask/layout", "flask"),
           (REPO_ROOT / "tools/.cache/unpack-bench/layout", "flask")]

pytestmark = [pytest.mark.root, pytest.mark.slow]


def blob_path(layout: Path, digest: str) -> Path:
    return layout / "blobs" / digest.replace(":", "/", 1)


def cached_image() -> tuple[Path, str, list[tuple[Path, str]], list[str]] | None:
    for layout, tag in LAYOUTS:
        try:
            index = json.loads((layout / "index.json").read_text())
        except OSError:
            continue
        for desc in index["manifests"]:
            if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag:
                continue
            manifest = json.loads(blob_path(layout, desc["digest"]).read_text())
            config = json.loads(blob_path(layout, manifest["config"]["digest"]).read_text())
            layers = [(blob_path(layout, d["digest"]), d["mediaType"])
                      for d in manifest["layers"]]
            if all(path.is_file() for path, _ in layers):
                return layout, tag, layers, config["rootfs"]["diff_ids"]
    return None


@pytest.fixture
def shm_path() -> Iterator[Path]:
    """A scratch directory on tmpfs (the image is ~180 MB unpacked, three times)."""
    path = Path(tempfile.mkdtemp(prefix="pyengine-test-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_real_image_three_ways(shm_path: Path) -> None:
    tmp_path = shm_path
    image = cached_image()
    if image is None:
        pytest.skip("bench image not built (tools/bench/pull.py or tools/bench/unpack.py)")
    layout, tag, layers, diff_ids = image
    plain = tmp_path / "plain"
    plain.mkdir()
    for (blob, media_type), diff_id in zip(layers, diff_ids, strict=True):
        with open(blob, "rb") as stream:
            assert apply_layer(stream, media_type, plain, whiteouts="remove").diff_id == diff_id
    ours, our_links = describe(plain)

    subprocess.run(["umoci", "unpack", "--image", f"{layout}:{tag}", str(tmp_path / "umoci")],
                   check=True, capture_output=True)
    theirs, their_links = describe(tmp_path / "umoci/rootfs")
    assert differences(theirs, ours) == []
    assert their_links == our_links

    merged = tmp_path / "merged"
    merged.mkdir()
    with OverlaySnapshotter(tmp_path / "snapshots") as sn:
        parent = None
        for i, ((blob, media_type), diff_id) in enumerate(zip(layers, diff_ids, strict=True)):
            sn.prepare(f"k{i}", parent)
            with open(blob, "rb") as stream:
                apply_layer(stream, media_type, sn.upper_dir(f"k{i}"), whiteouts="overlay",
                            lowers=sn.parent_dirs(f"k{i}"))
            sn.commit(diff_id, f"k{i}")
            parent = diff_id
        mount_all(sn.view("view", parent), merged)
        try:
            overlay_tree, overlay_links = describe(merged)
        finally:
            unmount_all(merged)
    assert differences(ours, overlay_tree) == []
    assert overlay_links == our_links
