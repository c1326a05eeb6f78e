"""A full filesystem during extraction is a typed DiskFull error naming the entry."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.archive import DiskFull, apply_layer
from pyengine.errors import ResourceExhausted

pytestmark = pytest.mark.root


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "small"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_disk_full(small_tmpfs: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = bytes(3 << 20)
        info = tarfile.TarInfo("big")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(DiskFull, match=r"'big'.*No space left") as err:
        apply_layer(io.BytesIO(buf.getvalue()), None, small_tmpfs, whiteouts="remove")
    assert isinstance(err.value, ResourceExhausted)
