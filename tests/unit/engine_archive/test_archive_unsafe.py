"""Malicious layers: each is refused with a typed error and nothing lands outside the root."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from layer_builder import Layer
from pyengine.archive import LayerTooLarge, Limits, UnsafeLayer, apply_layer
from pyengine.errors import InvalidArgument, ResourceExhausted


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(dest, outside): dest sits next to a directory the layer must never touch."""
    box = tmp_path / "box"
    outside = box / "outside"
    outside.mkdir(parents=True)
    (outside / "passwd").write_text("host secret\n")
    dest = box / "nest" / "dest"
    dest.mkdir(parents=True)
    before = snapshot(box, dest)
    yield dest, outside
    assert snapshot(box, dest) == before, "something was written outside dest"


def snapshot(top: Path, skip: Path) -> dict[str, tuple[int, int, bytes]]:
    state = {}
    for dirpath, dirnames, filenames in os.walk(top):
        if Path(dirpath) == skip.parent:
            dirnames[:] = [d for d in dirnames if d != skip.name]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = os.lstat(path)
            data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            state[str(path)] = (st.st_mode, st.st_size, data)
    return state


def apply(blob: bytes, dest: Path, limits: Limits | None = None):
    return apply_layer(io.BytesIO(blob), None, dest, whiteouts="remove", limits=limits)


def test_dotdot_traversal(sandbox) -> None:
    dest, _ = sandbox
    with pytest.raises(UnsafeLayer, match=r"contains '\.\.'"):
        apply(Layer().file("../../outside/passwd", b"pwned").bytes(), dest)


def test_dotdot_in_the_middle(sandbox) -> None:
    dest, _ = sandbox
    with pytest.raises(UnsafeLayer):
        apply(Layer().dir("a").file("a/../../../outside/x", b"pwned").bytes(), dest)


def test_absolute_path(sandbox) -> None:
    dest, outside = sandbox
    layer = Layer().file(str(outside / "passwd"), b"pwned")
    with pytest.raises(UnsafeLayer, match="absolute path"):
        apply(layer.bytes(), dest)


def test_symlink_then_write_through(sandbox) -> None:
    dest, outside = sandbox
    layer = Layer().symlink("evil", str(outside)).file("evil/passwd", b"pwned")
    with pytest.raises(UnsafeLayer, match="symlink"):
        apply(layer.bytes(), dest)


def test_relative_symlink_then_write_through(sandbox) -> None:
    dest, _ = sandbox
    layer = Layer().symlink("evil", "../../outside").file("evil/new", b"pwned")
    with pytest.raises(UnsafeLayer, match="symlink"):
        apply(layer.bytes(), dest)


def test_symlink_already_on_disk(sandbox) -> None:
    """A symlink left by a lower layer is not followed either."""
    dest, outside = sandbox
    os.symlink(outside, dest / "lib")
    with pytest.raises(UnsafeLayer):
        apply(Layer().file("lib/passwd", b"pwned").bytes(), dest)


def test_symlink_to_a_file_is_replaced_not_followed(sandbox) -> None:
    dest, outside = sandbox
    layer = Layer().symlink("f", str(outside / "passwd")).file("f", b"mine")
    apply(layer.bytes(), dest)
    assert (dest / "f").read_bytes() == b"mine" and not (dest / "f").is_symlink()


def test_hardlink_to_absolute_path(sandbox) -> None:
    dest, _ = sandbox
    with pytest.raises(UnsafeLayer, match="absolute path"):
        apply(Layer().hardlink("pw", "/etc/passwd").bytes(), dest)


def test_hardlink_traversal(sandbox) -> None:
    dest, _ = sandbox
    with pytest.raises(UnsafeLayer):
        apply(Layer().hardlink("pw", "../../outside/passwd").bytes(), dest)


def test_hardlink_through_symlink_parent(sandbox) -> None:
    dest, outside = sandbox
    layer = Layer().symlink("out", str(outside)).hardlink("pw", "out/passwd")
    with pytest.raises(UnsafeLayer):
        apply(layer.bytes(), dest)


def test_hardlink_to_symlink_links_the_symlink(sandbox) -> None:
    dest, outside = sandbox
    layer = Layer().symlink("s", str(outside / "passwd")).hardlink("h", "s")
    apply(layer.bytes(), dest)
    assert os.readlink(dest / "h") == str(outside / "passwd")


@pytest.mark.parametrize("name", [".wh..", "a/.wh..", ".wh..."])
def test_whiteout_escape(sandbox, name: str) -> None:
    dest, _ = sandbox
    with pytest.raises(UnsafeLayer):
        apply(Layer().dir("a").file(name).bytes(), dest)


def test_whiteout_through_symlink_parent(sandbox) -> None:
    dest, _ = sandbox
    layer = Layer().symlink("s", "../../outside").file("s/.wh.passwd")
    with pytest.raises(UnsafeLayer):
        apply(layer.bytes(), dest)


def test_opaque_through_symlink_parent(sandbox) -> None:
    dest, _ = sandbox
    layer = Layer().symlink("s", "../../outside").file("s/.wh..wh..opq")
    with pytest.raises(UnsafeLayer):
        apply(layer.bytes(), dest)


def _zeros_gzip(total: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(total >> 20)]
    return b"".join(parts) + comp.flush()


def test_gzip_bomb_stopped_by_stream_limit(sandbox) -> None:
    dest, _ = sandbox
    blob = _zeros_gzip(256 << 20)  # ~250 KB expanding to 256 MiB
    assert len(blob) < 1 << 20
    with pytest.raises(LayerTooLarge, match="exceeds the limit") as info:
        apply(blob, dest, Limits(max_bytes=16 << 20))
    assert isinstance(info.value, ResourceExhausted)


def test_declared_huge_file_stopped_before_reading(sandbox) -> None:
    dest, _ = sandbox
    info = tarfile.TarInfo("huge")
    info.size = 1 << 40
    header = info.tobuf(tarfile.PAX_FORMAT)
    with pytest.raises(LayerTooLarge, match="over the limit"):
        apply(header + bytes(4096), dest, Limits(max_bytes=1 << 30))
    assert not (dest / "huge").exists()


def test_huge_sparse_file_stopped(sandbox, tmp_path: Path) -> None:
    dest, _ = sandbox
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as fh:
        fh.truncate(1 << 40)  # 1 TiB apparent, no data
    blob = subprocess.run(["tar", "-C", str(src), "--sparse", "-cf", "-", "sparse"],
                          check=True, capture_output=True).stdout
    (src / "sparse").unlink()
    assert len(blob) < 64 << 10
    with pytest.raises(LayerTooLarge, match="over the limit"):
        apply(blob, dest, Limits(max_bytes=1 << 30))


def test_too_many_files(sandbox) -> None:
    dest, _ = sandbox
    layer = Layer()
    for i in range(20):
        layer.file(f"f{i}")
    with pytest.raises(LayerTooLarge, match="more than 10 entries"):
        apply(layer.bytes(), dest, Limits(max_files=10))


def test_errors_are_typed_engine_errors() -> None:
    assert issubclass(UnsafeLayer, InvalidArgument)
    assert issubclass(LayerTooLarge, ResourceExhausted)


def test_nul_byte_in_a_pax_path(sandbox) -> None:
    dest, _ = sandbox
    info = tarfile.TarInfo("innocent")
    info.pax_headers = {"path": "etc/pass\x00wd"}
    with pytest.raises(UnsafeLayer, match="NUL"):
        apply(Layer().raw_header(info).bytes(), dest)
