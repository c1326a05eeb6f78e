"""What a pull through the daemon leaves in its snapshots, mounted, equals `umoci unpack` of
the same image (paths, types, modes, owners, contents, link targets), for both drivers."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from pyengine.images.layers import chain_ids
from pyengine.snapshots import NativeSnapshotter, OverlaySnapshotter, mount_all, unmount_all

pytestmark = pytest.mark.root


def tree(root: Path) -> dict[str, tuple]:
    """Relative path -> (type, mode, uid, gid, content digest | link target | rdev)."""
    out: dict[str, tuple] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            info = path.lstat()
            mode = info.st_mode
            if stat.S_ISREG(mode):
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(mode):
                detail = os.readlink(path)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                detail = info.st_rdev
            else:
                detail = ""
            out[str(path.relative_to(root))] = (stat.S_IFMT(mode), stat.S_IMODE(mode),
                                                info.st_uid, info.st_gid, detail)
    return out


def assert_same_tree(ours: Path, reference: Path) -> None:
    mine, theirs = tree(ours), tree(reference)
    missing = sorted(set(theirs) - set(mine))[:10]
    extra = sorted(set(mine) - set(theirs))[:10]
    changed = sorted(p for p in set(mine) & set(theirs) if mine[p] != theirs[p])[:10]
    assert not (missing or extra or changed), (
        f"missing {missing}, extra {extra}, changed "
        f"{[(p, mine[p], theirs[p]) for p in changed]}"
    )


@pytest.mark.parametrize("driver", ["overlay", "native"])
def test_pulled_rootfs_matches_umoci(driver, engine_factory, registry, pushed_busybox,
                                     busybox_layout, tmp_path) -> None:
    remote = pushed_busybox(registry, f"diff/{driver}", "whiteout")
    daemon = engine_factory({"storage-driver": driver})
    daemon.out("pull", remote)
    layers = json.loads(daemon.out("inspect", remote))[0]["RootFS"]["Layers"]
    assert len(layers) == 2
    top = chain_ids(layers)[-1]
    assert daemon.stop() == 0

    bundle = tmp_path / "umoci"
    subprocess.run(["umoci", "unpack", "--image", f"{busybox_layout.path}:whiteout",
                    str(bundle)], check=True, capture_output=True)
    assert not (bundle / "rootfs" / "etc" / "group").exists()

    cls = OverlaySnapshotter if driver == "overlay" else NativeSnapshotter
    snapshotter = cls(daemon.data_root / "snapshots" / driver)
    target = tmp_path / "mnt"
    target.mkdir()
    try:
        mount_all(snapshotter.view("compare", top), target)
        try:
            assert_same_tree(target, bundle / "rootfs")
        finally:
            unmount_all(target)
    finally:
        snapshotter.remove("compare")
        snapshotter.close()
