"""apply_layer on well-formed layers: entry kinds, metadata, compression, whiteouts (remove)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from layer_builder import Layer, gz
from pyengine.archive import (
    ArchiveError,
    CorruptLayer,
    Limits,
    UnsupportedLayer,
    apply_layer,
)

OCI_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_GZIP = OCI_TAR + "+gzip"
OCI_ZSTD = OCI_TAR + "+zstd"


def apply(data: bytes, dest: Path, media_type: str | None = OCI_TAR, **kw: object):
    dest.mkdir(exist_ok=True)
    kw.setdefault("whiteouts", "remove")
    return apply_layer(io.BytesIO(data), media_type, dest, **kw)  # type: ignore[arg-type]


def sample_layer() -> bytes:
    layer = Layer()
    layer.dir("etc", 0o755, mtime=1_600_000_000)
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
    layer.file("bin/tool", b"#!/bin/sh\n", 0o4755, mtime=1_650_000_000)
    layer.symlink("bin/sh", "/bin/busybox")
    layer.hardlink("bin/tool2", "bin/tool")
    layer.fifo("run/fifo", 0o600)
    layer.dir("tmp", 0o1777)
    return layer.bytes()


def test_entries_metadata_and_diff_id(tmp_path: Path) -> None:
    data = sample_layer()
    result = apply(data, tmp_path / "root")
    root = tmp_path / "root"
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    assert (root / "etc/passwd").read_bytes().startswith(b"root:x")
    tool = os.lstat(root / "bin/tool")
    assert stat.S_IMODE(tool.st_mode) == 0o4755
    assert tool.st_mtime == 1_650_000_000
    assert tool.st_nlink == 2 and os.lstat(root / "bin/tool2").st_ino == tool.st_ino
    assert os.readlink(root / "bin/sh") == "/bin/busybox"
    assert stat.S_ISFIFO(os.lstat(root / "run/fifo").st_mode)
    assert stat.S_IMODE(os.lstat(root / "tmp").st_mode) == 0o1777
    # directory mtimes are set after their contents were written
    assert os.lstat(root / "etc").st_mtime == 1_600_000_000


@pytest.mark.parametrize("compress,media_type", [
    (gz, OCI_GZIP), (gz, None), (gz, OCI_TAR),  # magic wins over the declared type
    (lambda d: d, None), (lambda d: d, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
])
def test_compression_detection(tmp_path: Path, compress, media_type) -> None:
    data = sample_layer()
    result = apply(compress(data), tmp_path / "root", media_type)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (tmp_path / "root/etc/passwd").exists()


def test_zstd_layer(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = sample_layer()
    blob = zstandard.ZstdCompressor().compress(data)
    result = apply(blob, tmp_path / "root", OCI_ZSTD)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert os.readlink(tmp_path / "root/bin/sh") == "/bin/busybox"


def test_multi_member_gzip(tmp_path: Path) -> None:
    data = sample_layer()
    half = len(data) // 2
    result = apply(gz(data[:half]) + gz(data[half:]), tmp_path / "root", OCI_GZIP)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()


def test_unknown_media_type(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedLayer, match="unsupported media type"):
        apply(sample_layer(), tmp_path / "root", "application/vnd.oci.image.config.v1+json")


def test_truncated_gzip_is_corrupt(tmp_path: Path) -> None:
    blob = gz(sample_layer())
    with pytest.raises(CorruptLayer):
        apply(blob[: len(blob) // 2], tmp_path / "root", OCI_GZIP)


def test_bad_header_checksum_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(sample_layer())
    data[10] ^= 0xFF
    with pytest.raises(CorruptLayer, match="checksum"):
        apply(bytes(data), tmp_path / "root")


def test_long_names_and_xattrs_pax_and_gnu(tmp_path: Path) -> None:
    long_dir = "d" * 120
    long_name = f"{long_dir}/" + "f" * 150
    for fmt, dest in ((tarfile.PAX_FORMAT, "pax"), (tarfile.GNU_FORMAT, "gnu")):
        layer = Layer(fmt).dir(long_dir).file(long_name, b"x")
        layer.symlink("link", "t" * 200)
        apply(layer.bytes(), tmp_path / dest)
        assert (tmp_path / dest / long_name).read_bytes() == b"x"
        assert os.readlink(tmp_path / dest / "link") == "t" * 200


def user_xattrs_supported(directory: Path) -> bool:
    probe = directory / "xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError:
        return False
    finally:
        probe.unlink()
    return True


def test_user_xattr(tmp_path: Path) -> None:
    info = tarfile.TarInfo("f")
    info.pax_headers = {"SCHILY.xattr.user.test": "v\udcff"}  # binary value round trip
    layer = Layer().raw_header(info).bytes()
    if user_xattrs_supported(tmp_path):
        result = apply(layer, tmp_path / "root")
        assert os.getxattr(tmp_path / "root/f", "user.test") == b"v\xff"
        assert result.skipped_xattrs == 0
    elif os.geteuid() == 0:  # root applies every xattr or fails naming the one it could not
        with pytest.raises(ArchiveError, match=r"set xattr user\.test on "):
            apply(layer, tmp_path / "root")
    else:  # unprivileged, like rootless engines: skipped and counted
        result = apply(layer, tmp_path / "root")
        assert result.skipped_xattrs == 1 and os.listxattr(tmp_path / "root/f") == []


def test_overlay_xattrs_from_a_layer_are_dropped(tmp_path: Path) -> None:
    info = tarfile.TarInfo("d")
    info.type = tarfile.DIRTYPE
    info.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/etc"}
    result = apply(Layer().raw_header(info).bytes(), tmp_path / "root")
    assert result.skipped_xattrs == 1


def test_replacing_entries(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply(Layer().dir("a").file("a/x", b"1").file("b", b"file").bytes(), root)
    # a directory replaced by a file, a file by a directory, a file by a symlink
    apply(Layer().file("a", b"now a file").dir("b").symlink("c", "a").bytes(), root)
    assert (root / "a").read_bytes() == b"now a file"
    assert (root / "b").is_dir()
    assert os.readlink(root / "c") == "a"


def test_whiteouts_remove_mode(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply(Layer().dir("etc").file("etc/a", b"a").file("etc/b", b"b")
          .dir("var").dir("var/cache").file("var/cache/old", b"o").dir("var/cache/sub")
          .file("var/cache/sub/deep", b"d").bytes(), root)
    layer = (Layer().dir("etc").file("etc/.wh.a").dir("var").dir("var/cache")
             .file("var/cache/new", b"n").file("var/cache/.wh..wh..opq")
             .file(".wh.missing"))
    apply(layer.bytes(), root)
    assert not (root / "etc/a").exists() and (root / "etc/b").exists()
    assert sorted(os.listdir(root / "var/cache")) == ["new"]  # opaque keeps this layer's file
    assert not (root / ".wh.missing").exists()


def test_whiteout_of_directory_removes_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply(Layer().dir("d").dir("d/e").file("d/e/f", b"f").bytes(), root)
    apply(Layer().file(".wh.d").bytes(), root)
    assert os.listdir(root) == []


def test_sparse_files(tmp_path: Path) -> None:
    import shutil
    import subprocess
    if not shutil.which("tar"):
        pytest.skip("GNU tar needed to make sparse archives")
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as fh:
        fh.seek(5 << 20)
        fh.write(b"middle")
        fh.seek(9 << 20)
        fh.write(b"end")
    for fmt in ("gnu", "posix"):
        blob = subprocess.run(["tar", "-C", str(src), f"--format={fmt}", "--sparse", "-cf",
                               "-", "sparse"], check=True, capture_output=True).stdout
        assert len(blob) < 1 << 20
        dest = tmp_path / fmt
        result = apply(blob, dest, limits=Limits(max_bytes=64 << 20))
        assert result.entries == 1
        with open(dest / "sparse", "rb") as fh:
            content = fh.read()
        assert content == (src / "sparse").read_bytes()


def test_root_entry_named_slash_is_accepted(tmp_path: Path) -> None:
    """umoci writes the root directory's entry as "/": it names the root, nothing else."""
    layer = Layer().dir("/", 0o755).file("etc/x", b"x").bytes()
    apply(layer, tmp_path / "root")
    assert (tmp_path / "root/etc/x").read_bytes() == b"x"


def test_unprivileged_apply_skips_devices_and_owners(tmp_path: Path, monkeypatch) -> None:
    """Without root: device nodes are skipped (counted), owners left, overlay whiteouts refused."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    dev = tarfile.TarInfo("dev/null")
    dev.type, dev.devmajor, dev.devminor, dev.mode = tarfile.CHRTYPE, 1, 3, 0o666
    layer = Layer().raw_header(dev).file("f", b"x", uid=1234, gid=5678).fifo("p")
    result = apply(layer.bytes(), tmp_path / "root")
    assert result.skipped_devices == 1
    assert not (tmp_path / "root/dev/null").exists() and (tmp_path / "root/p").exists()
    assert os.lstat(tmp_path / "root/f").st_uid == os.getuid()
    from pyengine.archive import ArchiveError
    with pytest.raises(ArchiveError, match="need root"):
        apply(Layer().file(".wh.f").bytes(), tmp_path / "root", whiteouts="overlay")


def test_opaque_after_same_layer_entries_in_implicit_dirs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply(Layer().dir("a").file("a/old", b"o").dir("a/sub").file("a/sub/x", b"x").bytes(), root)
    # a/new/deep is written before the opaque marker and without a directory entry for a/new
    apply(Layer().file("a/new/deep", b"d").file("a/.wh..wh..opq").bytes(), root)
    assert sorted(os.listdir(root / "a")) == ["new"]
    assert (root / "a/new/deep").read_bytes() == b"d"


def test_directory_replaced_later_in_the_same_layer(tmp_path: Path) -> None:
    layer = Layer().dir("x", 0o700).file("x/in", b"1").file("x", b"now a file")
    apply(layer.bytes(), tmp_path / "root")
    assert (tmp_path / "root/x").read_bytes() == b"now a file"


def test_missing_destination_is_a_typed_error(tmp_path: Path) -> None:
    from pyengine.archive import ArchiveError
    with pytest.raises(ArchiveError, match="open destination"):
        apply_layer(io.BytesIO(sample_layer()), None, tmp_path / "missing", whiteouts="remove")


def test_gzip_trailing_zero_padding_accepted_garbage_refused(tmp_path: Path) -> None:
    data = sample_layer()
    result = apply(gz(data) + bytes(1024), tmp_path / "a", OCI_GZIP)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    with pytest.raises(CorruptLayer, match="trailing garbage"):
        apply(gz(data) + b"garbage", tmp_path / "b", OCI_GZIP)


def test_zstd_bomb_stopped(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    from pyengine.archive import LayerTooLarge
    blob = zstandard.ZstdCompressor(level=3).compress(bytes(64 << 20))
    assert len(blob) < 1 << 20
    with pytest.raises(LayerTooLarge):
        apply(blob, tmp_path / "root", OCI_ZSTD, limits=Limits(max_bytes=8 << 20))


def test_very_deep_paths() -> None:
    """1100 nested directories in one name (deeper than Python's recursion limit): no
    recursion error, no descriptor exhaustion."""
    import subprocess
    depth = 1100
    deep = "/".join(["d"] * depth)
    import tempfile
    root = Path(tempfile.mkdtemp(prefix="pyengine-test-deep-", dir="/dev/shm"))  # fast mkdir
    try:
        apply(Layer().file(f"{deep}/leaf", b"deep").dir("d/d", 0o700).bytes(), root)
        fd = os.open(root, os.O_RDONLY)
        try:
            for _ in range(depth):
                next_fd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = next_fd
            leaf = os.open("leaf", os.O_RDONLY, dir_fd=fd)
            assert os.read(leaf, 10) == b"deep"
            os.close(leaf)
        finally:
            os.close(fd)
        assert len(os.listdir("/proc/self/fd")) < 100  # nothing leaked
        apply(Layer().file(".wh.d").bytes(), root)  # and a whiteout removes it again
        assert os.listdir(root) == []
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)  # rmtree would recurse too deep


def test_truncated_zstd_is_corrupt(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    blob = zstandard.ZstdCompressor(write_checksum=True).compress(sample_layer())
    for cut in (len(blob) // 2, len(blob) - 2):
        with pytest.raises(CorruptLayer, match="truncated"):
            apply(blob[:cut], tmp_path / f"cut{cut}", OCI_ZSTD)


def test_zstd_multiple_and_skippable_frames(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = sample_layer()
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    blob = (zstandard.ZstdCompressor().compress(data[:1024]) + skippable
            + zstandard.ZstdCompressor().compress(data[1024:]))
    result = apply(blob, tmp_path / "root", OCI_ZSTD)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
