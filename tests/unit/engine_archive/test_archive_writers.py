"""apply_layer with writer threads: the same tree as one thread makes, whatever the layer does
to a file still in flight, errors named by file, and the switch to writers when creates are slow.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from layer_builder import Layer
from pyengine.archive import DiskFull, apply_layer
from pyengine.archive import writers as writers_module
from pyengine.archive.writers import CreateTimer, FileWriters

OCI_TAR = "application/vnd.oci.image.layer.v1.tar"


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Everything apply_layer sets, per path (hardlinks by their group's first name)."""
    out: dict[str, tuple[object, ...]] = {}
    inodes: dict[int, str] = {}
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(directory) / name
            rel = str(path.relative_to(root))
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            detail: object = None
            if stat.S_ISREG(st.st_mode):
                first = inodes.setdefault(st.st_ino, rel)
                detail = (hashlib.sha256(path.read_bytes()).hexdigest(), first)
            elif stat.S_ISLNK(st.st_mode):
                detail = os.readlink(path)
            # the layer's times are all before 2024; what it did not name has the time of day
            mtime = st.st_mtime_ns if st.st_mtime_ns < 1_700_000_001 * 10**9 else "now"
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, mtime, detail)
    return out


def many_files(layer: Layer, dirs: int = 300, per_dir: int = 4) -> Layer:
    """More directories than the extractor keeps open (its cache is trimmed meanwhile)."""
    for d in range(dirs):
        layer.dir(f"many/d{d}", 0o755, mtime=1_600_000_000 + d)
        for f in range(per_dir):
            layer.file(f"many/d{d}/f{f}", f"{d}-{f}".encode() * (f + 1), 0o640 + f % 2,
                       uid=d % 7, gid=f, mtime=1_650_000_000 + f)
    return layer


def tricky_layer() -> bytes:
    layer = Layer().dir("etc", mtime=1_600_000_000)
    many_files(layer)
    (layer.file("etc/dup", b"first").file("etc/dup", b"second", 0o600)  # same name twice
     .file("b", b"file first").dir("b", 0o700).file("b/y", b"under the dir")  # file -> dir
     .dir("c").file("c/in", b"x").file("c", b"file replaces dir")  # dir -> file
     .file("etc/target", b"linked", 0o4755).hardlink("etc/link", "etc/target")  # link in flight
     .file("etc/shadowed", b"s").symlink("etc/shadowed", "target")  # symlink over a file
     .file("ro/inside", b"before its dir").dir("ro", 0o555)  # dir entry after its contents
     .file("big", b"B" * ((1 << 20) + 5))  # streamed by the extracting thread
     .symlink("sl", "etc/target").file("sl", b"replaces the symlink")
     .dir("z").file("z/a", b"a").file("z/b", b"b").file("z", b"replaces z and its files")
     .dir("y").file("y/a", b"a").file("y/b", b"b").file(".wh.y")  # whiteout in flight
     .dir("v").file("v/a", b"a").file("v/b", b"b").fifo("v")  # made here, over files in flight
     .dir("u").file("u/a", b"a").file("u/b", b"b").hardlink("u", "etc/target")
     .symlink("sl2", "nowhere").hardlink("hl2", "sl2")  # a hardlink to a symlink in flight
     .file("etc/.wh.gone-later", b"plain in none mode").file("after/x", b"x"))
    return layer.bytes()


def apply_both(tmp_path: Path, data: bytes, whiteouts: str,
               prepare: object = None) -> tuple[dict[str, tuple[object, ...]], ...]:
    trees = []
    for threads in (0, 2):
        root = tmp_path / f"threads-{threads}"
        root.mkdir()
        if callable(prepare):
            prepare(root)
        apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts=whiteouts,  # type: ignore[arg-type]
                    writer_threads=threads)
        trees.append(tree(root))
    return tuple(trees)


@pytest.mark.parametrize("whiteouts,slow_writers", [
    ("remove", False), ("none", False), ("remove", True), ("none", True)])
def test_writers_make_the_same_tree(tmp_path: Path, monkeypatch, whiteouts: str,
                                    slow_writers: bool) -> None:
    if slow_writers:  # writers lagging far behind the extracting thread
        import random
        import time
        real = writers_module.write_file
        rng = random.Random(7)

        def lagging(job, chown):
            if rng.random() < 0.1:
                time.sleep(0.002)
            real(job, chown)

        monkeypatch.setattr(writers_module, "write_file", lagging)
    alone, with_writers = apply_both(tmp_path, tricky_layer(), whiteouts)
    assert alone == with_writers
    assert alone["etc/dup"][1] == 0o600
    assert alone["etc/link"][5] == alone["etc/target"][5]  # one inode
    assert alone["c"][0] == stat.S_IFREG and alone["b"][0] == stat.S_IFDIR
    assert alone["ro"][1] == 0o555 and "ro/inside" in alone
    assert alone["z"][0] == stat.S_IFREG and "z/a" not in alone
    assert alone["v"][0] == stat.S_IFIFO and alone["u"][5] == alone["etc/target"][5]
    assert "y/a" in alone and (".wh.y" in alone) is (whiteouts == "none")
    assert len([p for p in alone if p.startswith("many/")]) == 300 * 5


def test_writers_replace_what_was_there(tmp_path: Path) -> None:
    """A name already taken in the destination: the writer's create fails and the file is
    written again, replacing it, as one thread does."""
    def prepare(root: Path) -> None:
        (root / "etc").mkdir()
        (root / "etc/dup").write_bytes(b"old")
        (root / "etc/target").mkdir()
        (root / "etc/target/sub").write_bytes(b"old tree")
        (root / "after").mkdir()
        (root / "after/x").symlink_to("/etc/passwd")  # never followed
    alone, with_writers = apply_both(tmp_path, tricky_layer(), "remove", prepare)
    assert alone == with_writers
    assert (tmp_path / "threads-2/etc/target").read_bytes() == b"linked"
    assert (tmp_path / "threads-2/after/x").read_bytes() == b"x"


@pytest.mark.skipif(os.geteuid() != 0, reason="overlay whiteouts are 0:0 devices: root only")
def test_writers_same_tree_overlay_whiteouts(tmp_path: Path) -> None:
    layer = many_files(Layer(), dirs=40).file("w/keep", b"k").file("w/.wh.gone")
    layer.file("o/x", b"x").file("o/.wh..wh..opq")
    alone, with_writers = apply_both(tmp_path, layer.bytes(), "overlay")
    assert alone == with_writers
    assert alone["w/gone"][0] == stat.S_IFCHR


def test_a_writer_failure_names_its_file(tmp_path: Path, monkeypatch) -> None:
    real = writers_module.write_file

    def full_disk(job, chown):  # the disk fills up while a writer writes this file
        if job.path == b"many/d3/f1":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(job, chown)

    monkeypatch.setattr(writers_module, "write_file", full_disk)
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DiskFull, match=r"many/d3/f1.*No space left"):
        apply_layer(io.BytesIO(many_files(Layer(), dirs=10).bytes()), OCI_TAR, root,
                    whiteouts="remove", writer_threads=2)


def test_writer_threads_stop_when_apply_fails(tmp_path: Path) -> None:
    import threading
    before = {t for t in threading.enumerate() if t.name.startswith("layer-writer")}
    data = many_files(Layer(), dirs=20).bytes()
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(Exception, match="truncated"):
        apply_layer(io.BytesIO(data[: len(data) // 2 + 100]), OCI_TAR, root,
                    whiteouts="remove", writer_threads=2)
    after = {t for t in threading.enumerate() if t.name.startswith("layer-writer")}
    assert after == before


def test_create_timer_decides_on_the_median_of_each_round() -> None:
    timer = CreateTimer(samples=5, slow_ns=1000)
    assert [timer.slow(t) for t in (10, 5000, 10, 10, 9000)] == [False] * 5  # median 10
    assert [timer.slow(t) for t in (2000, 10, 3000, 4000, 10)] == [False] * 4 + [True]


@pytest.mark.parametrize("slow_ns,started", [(-1, True), (10**12, False)])
def test_writers_start_only_when_creates_are_slow(tmp_path: Path, monkeypatch,
                                                  slow_ns: int, started: bool) -> None:
    monkeypatch.setattr(writers_module, "SLOW_CREATE_NS", slow_ns)
    submitted: list[bytes] = []
    real_submit = FileWriters.submit

    def counting(self, job):
        submitted.append(job.path)
        real_submit(self, job)

    monkeypatch.setattr(FileWriters, "submit", counting)
    root = tmp_path / "root"
    root.mkdir()
    data = many_files(Layer(), dirs=20).bytes()
    apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts="remove")
    assert bool(submitted) is started
    if started:  # the first round of creates was timed here, the rest went to the writers
        assert len(submitted) == 20 * 4 - writers_module.SAMPLED_CREATES
    assert len(list(root.glob("many/*/f*"))) == 80


@pytest.mark.parametrize("threads", [0, 2])
def test_a_path_through_a_symlink_in_flight_is_refused(tmp_path: Path, threads: int) -> None:
    from pyengine.archive import UnsafeLayer
    root = tmp_path / "root"
    root.mkdir()
    data = many_files(Layer(), dirs=3).symlink("lib", "/etc").file("lib/passwd", b"x").bytes()
    with pytest.raises(UnsafeLayer, match="'lib' is a symlink"):
        apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts="remove", writer_threads=threads)
    assert os.readlink(root / "lib") == "/etc"


def test_a_hardlink_whose_target_directory_was_replaced_links_nothing_outside(
        tmp_path: Path, monkeypatch) -> None:
    """`d/f`, then a hardlink named `d` to it: making room removes `d`, and the target with
    it. The daemon's working directory holds an `f` that must not be linked in."""
    from pyengine.archive import CorruptLayer
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_bytes(b"a file of the daemon's")
    for threads in (0, 2):
        root = tmp_path / f"root-{threads}"
        root.mkdir()
        data = Layer().dir("d").file("d/f", b"in the layer").hardlink("d", "d/f").bytes()
        with pytest.raises(CorruptLayer, match="'d/f' does not exist"):
            apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts="remove",
                        writer_threads=threads)
        assert not (root / "d").exists()
    assert os.stat(tmp_path / "f").st_nlink == 1


def test_an_earlier_writer_failure_wins_over_a_later_entry_error(tmp_path: Path,
                                                                  monkeypatch) -> None:
    real = writers_module.write_file

    def full_disk(job, chown):
        if job.path == b"many/d0/f0":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(job, chown)

    monkeypatch.setattr(writers_module, "write_file", full_disk)
    data = many_files(Layer(), dirs=2).hardlink("bad", "nowhere").bytes()
    for threads in (0, 2):
        root = tmp_path / f"root-{threads}"
        root.mkdir()
        if threads == 0:
            monkeypatch.setattr("pyengine.archive.apply.os.open", _failing_open(b"f0"))
        else:
            monkeypatch.undo()
            monkeypatch.setattr(writers_module, "write_file", full_disk)
        with pytest.raises(DiskFull, match="many/d0/f0"):
            apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts="remove",
                        writer_threads=threads)


def _failing_open(name: bytes):
    real = os.open

    def failing(path, flags, mode=0o777, *, dir_fd=None):
        if path == name and flags & os.O_CREAT and dir_fd is not None:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, flags, mode, dir_fd=dir_fd)
    return failing


def test_failed_writes_do_not_pile_up_in_memory(tmp_path: Path) -> None:
    """Files whose names are taken (here by symlinks just made) fail in the writers and are
    redone by the extracting thread: their data is held only until then, a bounded while."""
    import tracemalloc
    size, count = 256 << 10, 300  # 75 MiB of colliding files
    layer = Layer()
    for n in range(count):
        layer.symlink(f"s{n}", "x")
    for n in range(count):
        layer.file(f"s{n}", bytes([n % 256]) * size)
    data = layer.bytes()
    root = tmp_path / "root"
    root.mkdir()
    tracemalloc.start()
    try:
        apply_layer(io.BytesIO(data), OCI_TAR, root, whiteouts="remove", writer_threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < writers_module.MAX_QUEUED_BYTES + (16 << 20)  # 100+ MiB when they piled up
    assert (root / f"s{count - 1}").read_bytes() == bytes([(count - 1) % 256]) * size
