"""Overlay and native snapshotters against the real kernel: chains, views, 130 layers, crashes."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.archive import apply_layer
from pyengine.snapshots import (
    InvalidSnapshotKey,
    Mount,
    NativeSnapshotter,
    OverlaySnapshotter,
    SnapshotExists,
    SnapshotNotFound,
    SnapshotStateError,
    mount_all,
    unmount_all,
)

pytestmark = pytest.mark.root
ENGINE_DIR = Path(__file__).resolve().parents[3] / "engine"


def tar(*entries: tuple[str, bytes | None]) -> bytes:
    """Entries (name, data); data None makes a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def mountpoints(tmp_path: Path) -> Iterator[list[Path]]:
    """Mount targets handed out to a test; whatever is still mounted is unmounted after it."""
    targets: list[Path] = []
    yield targets
    for target in reversed(targets):
        unmount_all(target)


def mounted(mountpoints: list[Path], tmp_path: Path, mounts: list[Mount]) -> Path:
    target = tmp_path / f"mnt{len(mountpoints)}"
    target.mkdir()
    mountpoints.append(target)
    mount_all(mounts, target)
    return target


@pytest.fixture(params=["overlay", "native"])
def snapshotter(request, tmp_path: Path) -> Iterator[OverlaySnapshotter | NativeSnapshotter]:
    cls = OverlaySnapshotter if request.param == "overlay" else NativeSnapshotter
    sn = cls(tmp_path / "snapshots")
    yield sn
    sn.close()


def whiteout_mode(sn) -> str:
    return "overlay" if isinstance(sn, OverlaySnapshotter) else "remove"


def unpack(sn, key: str, parent: str | None, name: str, layer: bytes) -> None:
    sn.prepare(key, parent)
    apply_layer(io.BytesIO(layer), None, sn.upper_dir(key), whiteouts=whiteout_mode(sn))
    sn.commit(name, key)


def test_layer_chain_view_and_active(snapshotter, tmp_path: Path, mountpoints) -> None:
    sn = snapshotter
    unpack(sn, "k1", None, "l1", tar(("etc", None), ("etc/a", b"a"), ("etc/b", b"b"),
                                      ("cache", None), ("cache/old", b"old")))
    unpack(sn, "k2", "l1", "l2", tar(("etc", None), ("etc/.wh.a", b""), ("cache", None),
                                      ("cache/.wh..wh..opq", b""), ("cache/new", b"new")))
    assert sn.stat("l2").parent == "l1" and sn.stat("l2").kind == "committed"
    with pytest.raises(SnapshotNotFound):
        sn.stat("k2")  # commit renames the key

    view = mounted(mountpoints, tmp_path, sn.view("v", "l2"))
    assert sorted(os.listdir(view / "etc")) == ["b"]
    assert sorted(os.listdir(view / "cache")) == ["new"]
    with pytest.raises(OSError) as info:
        (view / "x").write_text("no")
    assert info.value.errno == errno.EROFS

    active = mounted(mountpoints, tmp_path, sn.prepare("c1", "l2"))
    (active / "etc/b").write_text("changed")
    (active / "new").write_text("n")
    assert (sn.upper_dir("c1") / "new").read_text() == "n"
    assert (view / "etc/b").read_text() == "b"  # layers below stay untouched
    unmount_all(active)
    unmount_all(view)
    sn.remove("c1")
    sn.remove("v")
    assert {i.name for i in sn.walk()} == {"l1", "l2"}


def test_single_layer_view_is_a_read_only_bind(tmp_path: Path, mountpoints) -> None:
    with OverlaySnapshotter(tmp_path / "sn") as sn:
        unpack(sn, "k", None, "base", tar(("f", b"x")))
        mounts = sn.view("v", "base")
        assert mounts[0].type == "bind" and "ro" in mounts[0].options
        target = mounted(mountpoints, tmp_path, mounts)
        assert (target / "f").read_bytes() == b"x"


def test_130_layer_chain_mounts(tmp_path: Path, mountpoints) -> None:
    with OverlaySnapshotter(tmp_path / "a-rather-long-directory-name-for-the-snapshotter") as sn:
        parent = None
        for i in range(130):
            sn.prepare(f"k{i}", parent)
            (sn.upper_dir(f"k{i}") / f"file{i}").write_text(str(i))
            sn.commit(f"layer{i}", f"k{i}")
            parent = f"layer{i}"
        mounts = sn.prepare("top", parent)
        options = ",".join(mounts[0].options)
        assert len(options) > 4096  # would not fit in one page with absolute paths
        target = mounted(mountpoints, tmp_path, mounts)
        assert len([n for n in os.listdir(target) if n.startswith("file")]) == 130
        assert (target / "file0").read_text() == "0"
        (target / "top").write_text("t")
        assert (sn.upper_dir("top") / "top").exists()
        view = mounted(mountpoints, tmp_path, sn.view("v", parent))
        assert (view / "file129").read_text() == "129"
        unmount_all(view)
        unmount_all(target)
        sn.remove("top")
        sn.remove("v")
        for i in reversed(range(130)):
            sn.remove(f"layer{i}")
        assert list(sn.walk()) == []
        assert os.listdir(sn.snapshots_dir) == []


def test_state_errors(snapshotter) -> None:
    sn = snapshotter
    sn.prepare("a", None)
    with pytest.raises(SnapshotExists):
        sn.prepare("a", None)
    with pytest.raises(SnapshotStateError, match="not committed"):
        sn.prepare("b", "a")
    with pytest.raises(SnapshotNotFound):
        sn.prepare("b", "missing")
    with pytest.raises(InvalidSnapshotKey):
        sn.prepare("", None)
    sn.commit("A", "a")
    with pytest.raises(SnapshotStateError, match="not active"):
        sn.commit("A2", "A")
    sn.view("v", "A")
    with pytest.raises(SnapshotStateError, match="not active"):
        sn.commit("V", "v")
    with pytest.raises(SnapshotStateError, match="not active"):
        sn.upper_dir("v")
    with pytest.raises(SnapshotStateError, match="children"):
        sn.remove("A")
    sn.prepare("c", "A")
    with pytest.raises(SnapshotExists):
        sn.commit("A", "c")
    assert sn.stat("c").kind == "active"  # the failed commit changed nothing
    with pytest.raises(SnapshotStateError, match="committed"):
        sn.mounts("A")
    with pytest.raises(SnapshotNotFound):
        sn.remove("nope")


def test_usage(snapshotter) -> None:
    sn = snapshotter
    sn.prepare("a", None)
    upper = sn.upper_dir("a")
    (upper / "big").write_bytes(os.urandom(1 << 20))
    (upper / "d").mkdir()
    os.link(upper / "big", upper / "d/link")
    usage = sn.usage("a")
    assert usage.inodes == 2  # big (counted once) and d
    assert (1 << 20) <= usage.size < (1 << 20) + 64 << 10


def test_native_children_are_copies(tmp_path: Path) -> None:
    with NativeSnapshotter(tmp_path / "sn") as sn:
        unpack(sn, "k", None, "base", tar(("f", b"x")))
        sn.prepare("c", "base")
        (sn.upper_dir("c") / "f").write_bytes(b"changed")
        sn.view("v", "base")
        assert (sn.parent_dirs("c")[0] / "f").read_bytes() == b"x"


def test_second_open_of_the_same_root_is_refused(tmp_path: Path) -> None:
    with OverlaySnapshotter(tmp_path / "sn"), pytest.raises(SnapshotStateError, match="in use"):
        OverlaySnapshotter(tmp_path / "sn")


CRASH_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from pyengine.snapshots import OverlaySnapshotter, base
    root, point = Path(sys.argv[1]), sys.argv[2]
    sn = OverlaySnapshotter(root)
    sn.prepare("keep", None)
    sn.commit("kept", "keep")
    sn.prepare("doomed", "kept")
    real_rename = os.rename
    def crash_rename(src, dst):
        if point == "after-rename":
            real_rename(src, dst)
        os.kill(os.getpid(), signal.SIGKILL)
    base.os.rename = crash_rename
    if point == "remove":
        sn.remove("doomed")
    else:
        sn.prepare("new", "kept")
""")


@pytest.mark.parametrize("point", ["before-rename", "after-rename", "remove"])
def test_crash_leftovers_cleaned_on_reopen(tmp_path: Path, point: str) -> None:
    root = tmp_path / "sn"
    env = {**os.environ, "PYTHONPATH": str(ENGINE_DIR)}
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(root), point], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    leftovers = os.listdir(root / "snapshots")
    # kept and doomed, plus the half-made one; a half-removed one has no row any more
    assert len(leftovers) == (2 if point == "remove" else 3)
    with OverlaySnapshotter(root) as sn:
        names = {i.name for i in sn.walk()}
        expected = {"kept"} if point == "remove" else {"kept", "doomed"}
        assert names == expected
        ids = {str(sn._meta.get(n).id) for n in names}
        assert set(os.listdir(root / "snapshots")) == ids
        sn.prepare("new", "kept")  # the interrupted operation can be redone


@pytest.mark.parametrize("layer", [
    tar(("ok", b"fine"), ("../escape", b"pwned")),
    tar(("ok", b"fine"), ("/abs", b"pwned")),
])
def test_failed_apply_then_remove_leaves_nothing(snapshotter, tmp_path: Path,
                                                 layer: bytes) -> None:
    """The caller contract: a layer that fails to apply is discarded with remove()."""
    from pyengine.archive import UnsafeLayer
    sn = snapshotter
    sn.prepare("extract", None)
    upper = sn.upper_dir("extract")
    with pytest.raises(UnsafeLayer):
        apply_layer(io.BytesIO(layer), None, upper, whiteouts=whiteout_mode(sn))
    assert (upper / "ok").exists()  # the partial result...
    sn.remove("extract")
    assert os.listdir(sn.snapshots_dir) == []  # ...is gone with the snapshot
    assert not (upper.parent.parent / "escape").exists()
    assert list(sn.walk()) == []


@pytest.mark.parametrize("cls", [OverlaySnapshotter, NativeSnapshotter])
def test_remove_a_snapshot_deeper_than_the_recursion_limit(cls) -> None:
    import shutil
    import tempfile
    scratch = Path(tempfile.mkdtemp(prefix="pyengine-test-", dir="/dev/shm"))  # fast mkdir
    try:
        with cls(scratch / "sn") as sn:
            sn.prepare("deep", None)
            deep = "/".join(["d"] * 1100)
            apply_layer(io.BytesIO(tar((f"{deep}/leaf", b"x"))), None, sn.upper_dir("deep"),
                        whiteouts=whiteout_mode(sn))
            sn.remove("deep")
            assert os.listdir(sn.snapshots_dir) == []
    finally:
        shutil.rmtree(scratch)
