"""diff() of a real overlayfs upper directory: the layer it writes reproduces the merged view."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from archive_treecompare import describe, differences
from pyengine.archive import apply_layer, diff
from pyengine.snapshots import OverlaySnapshotter, mount_all, unmount_all

pytestmark = pytest.mark.root


def tar_names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getnames()


def base_layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in (("etc/", None), ("etc/a", b"a"), ("etc/b", b"b"), ("var/", None),
                           ("var/cache/", None), ("var/cache/old", b"o"), ("d/", None),
                           ("d/e/", None), ("d/e/f", b"f")):
            info = tarfile.TarInfo(name)
            info.mtime = 1_600_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_overlay_upper_diff_reproduces_the_merged_view(tmp_path: Path) -> None:
    target = tmp_path / "merged"
    target.mkdir()
    with OverlaySnapshotter(tmp_path / "sn") as sn:
        sn.prepare("k", None)
        base = base_layer()
        apply_layer(io.BytesIO(base), None, sn.upper_dir("k"), whiteouts="overlay")
        sn.commit("base", "k")
        mount_all(sn.prepare("work", "base"), target)
        try:
            os.unlink(target / "etc/a")
            (target / "etc/b").write_text("changed")
            shutil.rmtree(target / "var/cache")
            (target / "var/cache").mkdir()  # overlayfs makes this an opaque directory
            (target / "var/cache/new").write_text("n")
            shutil.rmtree(target / "d")
            (target / "added").write_text("+")
            expected, _ = describe(target)
        finally:
            unmount_all(target)
        buf = io.BytesIO()
        diff_id = diff(None, sn.upper_dir("work"), buf)
    names = tar_names(buf.getvalue())
    assert "etc/.wh.a" in names and ".wh.d" in names
    assert "var/cache/.wh..wh..opq" in names
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    apply_layer(io.BytesIO(base), None, rebuilt, whiteouts="remove")
    result = apply_layer(io.BytesIO(buf.getvalue()), None, rebuilt, whiteouts="remove")
    assert result.diff_id == diff_id
    actual, _ = describe(rebuilt)
    assert differences(expected, actual) == []


def test_redirect_or_metacopy_uppers_are_refused(tmp_path: Path) -> None:
    from pyengine.archive import ArchiveError
    upper = tmp_path / "upper"
    (upper / "moved").mkdir(parents=True)
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/original")
    with pytest.raises(ArchiveError, match="redirect"):
        diff(None, upper, io.BytesIO())
