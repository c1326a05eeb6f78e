"""volumes/seed.py: an image directory copied into a new volume (modes, links, nested
directories), and a volume directory swapped for a symlink while the copy runs (another
container using the same named volume) sends nothing outside the volume."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyengine.errors import EngineError
from pyengine.volumes import seed as seed_module
from pyengine.volumes.seed import seed


def _image(rootfs: Path) -> None:
    data = rootfs / "data"
    (data / "sub" / "deeper").mkdir(parents=True)
    (data / "top.txt").write_text("top\n")
    (data / "sub" / "deeper" / "leaf.txt").write_text("leaf\n")
    (data / "sub" / "deeper" / "leaf.txt").chmod(0o640)
    (data / "sub" / "link").symlink_to("/etc/passwd")
    (data / "sub").chmod(0o751)


def test_seed_copies_the_tree_without_following_links(tmp_path: Path) -> None:
    rootfs, volume = tmp_path / "rootfs", tmp_path / "volume"
    _image(rootfs)
    volume.mkdir()
    assert seed(rootfs, "/data", volume) is True
    assert (volume / "top.txt").read_text() == "top\n"
    leaf = volume / "sub" / "deeper" / "leaf.txt"
    assert leaf.read_text() == "leaf\n" and leaf.stat().st_mode & 0o777 == 0o640
    assert os.readlink(volume / "sub" / "link") == "/etc/passwd"
    assert (volume / "sub").stat().st_mode & 0o777 == 0o751
    assert seed(rootfs, "/missing", volume) is False
    assert seed(rootfs, "/data/top.txt", volume) is False


def test_a_directory_swapped_for_a_symlink_during_the_copy(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Right after the copy makes volume/sub, "another container" replaces it with a symlink
    to a host directory: the copy fails (naming the volume) and writes nothing there."""
    rootfs, volume, outside = tmp_path / "rootfs", tmp_path / "volume", tmp_path / "outside"
    _image(rootfs)
    volume.mkdir()
    outside.mkdir()
    outside.chmod(0o700)
    real_mkdir = os.mkdir

    def mkdir_then_swap(path: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(path, mode, dir_fd=dir_fd)
        if os.fspath(path) in ("sub", str(volume / "sub")):
            os.rmdir(path, dir_fd=dir_fd)
            os.symlink(outside, path, dir_fd=dir_fd)

    monkeypatch.setattr(seed_module.os, "mkdir", mkdir_then_swap)
    with pytest.raises(EngineError, match=f"copy /data of the image into volume {volume}"):
        seed(rootfs, "/data", volume)
    assert list(outside.iterdir()) == []
    assert outside.stat().st_mode & 0o777 == 0o700
