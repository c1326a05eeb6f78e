"""images/layer_size.py: docker's size of a layer (its graph driver's DiffSize)."""

from __future__ import annotations

import os
from pathlib import Path

from pyengine.images.layer_size import diff_size


def test_apparent_sizes_each_inode_once_and_no_directories(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "busybox").write_bytes(b"x" * 1000)
    os.link(tmp_path / "bin" / "busybox", tmp_path / "bin" / "sh")  # a hard link: once
    (tmp_path / "bin" / "ls").symlink_to("busybox")  # lstat's size: the target's length, 7
    (tmp_path / "etc" / "empty.d").mkdir(parents=True)  # directories count nothing
    (tmp_path / "etc" / "hostname").write_bytes(b"")  # nor empty files
    (tmp_path / "etc" / "passwd").write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    (tmp_path / "home").symlink_to("/nonexistent/target")  # not followed
    assert diff_size(tmp_path) == 1000 + 7 + 26 + len("/nonexistent/target")


def test_an_empty_layer_is_zero(tmp_path: Path) -> None:
    assert diff_size(tmp_path) == 0
