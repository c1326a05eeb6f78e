"""export_tar and diff (compare mode) round trips through apply_layer."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from pyengine.archive import apply_layer, diff, export_tar


def tar_names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getnames()


def tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = os.lstat(path)
            if path.is_symlink():
                detail = os.readlink(path)
            elif path.is_file():
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                detail = None
            mtime = None if path.is_dir() else int(st.st_mtime)
            out[str(path.relative_to(root))] = (st.st_mode, detail, mtime)
    return out


def make_tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/conf").write_text("a=1\n")
    (root / "bin").mkdir()
    (root / "bin/tool").write_bytes(b"\x7fELF" + bytes(5000))
    os.chmod(root / "bin/tool", 0o755)
    os.link(root / "bin/tool", root / "bin/tool2")
    os.symlink("tool", root / "bin/alias")
    (root / "var/cache").mkdir(parents=True)
    for i in range(3):
        (root / f"var/cache/{i}").write_text(str(i))
    (root / "empty").mkdir()
    (root / "long" / ("d" * 120)).mkdir(parents=True)
    (root / "long" / ("d" * 120) / ("f" * 200)).write_text("long")


def test_export_tar_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src)
    buf = io.BytesIO()
    diff_id = export_tar(src, buf)
    assert diff_id == "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert members["bin/tool2"].islnk() or members["bin/tool"].islnk()
    dest = tmp_path / "dest"
    dest.mkdir()
    result = apply_layer(io.BytesIO(buf.getvalue()), None, dest, whiteouts="remove")
    assert result.diff_id == diff_id
    assert tree(dest) == tree(src)
    assert os.lstat(dest / "bin/tool").st_ino == os.lstat(dest / "bin/tool2").st_ino


def test_export_tar_gzip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src)
    plain, gz = io.BytesIO(), io.BytesIO()
    assert export_tar(src, plain) == export_tar(src, gz, compression="gzip")
    assert gz.getvalue()[:2] == b"\x1f\x8b"


def test_diff_compare_mode_round_trip(tmp_path: Path) -> None:
    lower = tmp_path / "lower"
    make_tree(lower)
    upper = tmp_path / "upper"
    subprocess.run(["cp", "-a", str(lower), str(upper)], check=True)
    (upper / "etc/conf").write_text("a=2\n")  # changed
    (upper / "etc/new").write_text("new\n")  # added
    os.unlink(upper / "bin/alias")  # removed
    shutil.rmtree(upper / "var/cache")  # removed directory
    os.chmod(upper / "empty", 0o700)  # metadata change
    buf = io.BytesIO()
    diff_id = diff([lower], upper, buf)
    names = tar_names(buf.getvalue())
    assert "etc/conf" in names and "etc/new" in names and "bin/.wh.alias" in names
    assert "var/.wh.cache" in names and "empty" in names
    assert "bin/tool" not in names  # unchanged content is not repeated
    target = tmp_path / "target"
    subprocess.run(["cp", "-a", str(lower), str(target)], check=True)
    result = apply_layer(io.BytesIO(buf.getvalue()), None, target, whiteouts="remove")
    assert result.diff_id == diff_id
    assert tree(target) == tree(upper)


def test_diff_compare_mode_never_follows_lower_symlinks(tmp_path: Path) -> None:
    """A symlinked directory in the lower tree is not a way to stat files outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    lower = tmp_path / "lower"
    lower.mkdir()
    os.symlink(outside, lower / "d")
    upper = tmp_path / "upper"
    (upper / "d").mkdir(parents=True)
    (upper / "d/secret").write_text("s")
    buf = io.BytesIO()
    diff([lower], upper, buf)
    names = tar_names(buf.getvalue())
    assert "d" in names and "d/secret" in names  # treated as new, not compared with outside


def test_export_tar_keeps_xattrs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    try:
        os.setxattr(src / "f", "user.bin", b"\xff\x00\x01")
        os.setxattr(src / "f", "user.text", b"hello")
    except OSError:
        import pytest
        pytest.skip("no user xattrs here")
    buf = io.BytesIO()
    export_tar(src, buf)
    dest = tmp_path / "dest"
    dest.mkdir()
    apply_layer(io.BytesIO(buf.getvalue()), None, dest, whiteouts="remove")
    assert os.getxattr(dest / "f", "user.bin") == b"\xff\x00\x01"
    assert os.getxattr(dest / "f", "user.text") == b"hello"


def test_export_tar_of_a_very_deep_tree() -> None:
    import tempfile
    scratch = Path(tempfile.mkdtemp(prefix="pyengine-test-deep-", dir="/dev/shm"))
    try:
        fd = os.open(scratch, os.O_RDONLY)
        for _ in range(1100):
            os.mkdir("d", dir_fd=fd)
            next_fd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        os.close(fd)
        buf = io.BytesIO()
        export_tar(scratch, buf)
        assert len(tar_names(buf.getvalue())) == 1100
    finally:
        subprocess.run(["rm", "-rf", str(scratch)], check=True)
