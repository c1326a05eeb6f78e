"""A container's filesystem from outside, on faked directories: diff lines and layer tars of an
overlay upper directory (whiteouts, opaque directories, runtime mount points), path resolution
inside a rootfs (openat2 and the fallback walk) against hostile symlinks, trees read through
descriptors, and pyctl cp's renaming."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine import archive
from pyengine.archive.errors import UnsafeLayer
from pyengine.cli.verb_cp import _rename, split_arg
from pyengine.containers import rootfs
from pyengine.containers.changes import overlay_changes, runtime_mount_point, tree_changes
from pyengine.errors import FailedPrecondition, NotFound

OPAQUE = "trusted.overlay.opaque"


def _lower(root: Path) -> Path:
    lower = root / "lower"
    for directory in ("etc", "bin", "root", "var/lib", "data"):
        (lower / directory).mkdir(parents=True)
    (lower / "etc/passwd").write_text("root:x:0:0\n")
    (lower / "etc/group").write_text("root:x:0:\n")
    (lower / "bin/sh").write_text("#!\n")
    (lower / "root/.profile").write_text("x\n")
    (lower / "var/lib/keep").write_text("keep\n")
    (lower / "data/old").write_text("old\n")
    return lower


def _copied_up(lower: Path, upper: Path, rel: str) -> None:
    """A directory as overlayfs copies it up: same owner, mode and times as below."""
    (upper / rel).mkdir(parents=True, exist_ok=True)
    shutil.copystat(lower / rel, upper / rel)


def _whiteout(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A lower layer and an upper directory holding a container's changes (root: whiteouts
    are char devices and opaque directories carry a trusted.* xattr)."""
    if os.geteuid() != 0:
        pytest.skip("whiteouts (mknod) and trusted.* xattrs need root")  # marked root below
    lower = _lower(tmp_path)
    upper = tmp_path / "upper"
    upper.mkdir()
    _copied_up(lower, upper, "etc")
    (upper / "etc/passwd").write_text("root:x:0:0\nnew:x:1:1\n")  # modified
    _whiteout(upper / "etc/group")  # deleted
    (upper / "etc/added").write_text("a\n")  # added
    (upper / "etc/hostname").write_text("")  # a runtime's mount point
    shutil.copystat(lower / "etc", upper / "etc")  # as if only the copy-up touched it
    _whiteout(upper / "root")  # a deleted directory
    _copied_up(lower, upper, "var")
    _copied_up(lower, upper, "var/lib")
    (upper / "var/lib/new").write_text("n\n")
    shutil.copystat(lower / "var/lib", upper / "var/lib")
    shutil.copystat(lower / "var", upper / "var")
    (upper / "data").mkdir()  # removed and made again: opaque
    os.setxattr(upper / "data", OPAQUE, b"y")
    (upper / "data/fresh").write_text("f\n")
    (upper / "proc").mkdir()  # a runtime's mount point the image lacked
    (upper / "tmp/x").mkdir(parents=True)  # all new
    yield lower, upper



@pytest.mark.root
def test_mount_points_alone_do_not_change_their_directory(tmp_path: Path) -> None:
    """docker 20.10: `docker create busybox; docker diff` prints nothing (the mount points are
    in its init layer), though making them bumped the directory's mtime in our upper."""
    lower = _lower(tmp_path)
    upper = tmp_path / "upper"
    _copied_up(lower, upper, "etc")
    for name in ("hostname", "hosts", "resolv.conf"):
        (upper / "etc" / name).write_text("")
    os.utime(upper / "etc", ns=(1, 1))
    assert overlay_changes(upper, [lower]) == []
    os.chmod(upper / "etc", 0o700)  # docker: chmod 700 /etc -> "C /etc"
    assert [f"{c.kind} {c.path}" for c in overlay_changes(upper, [lower])] == ["C /etc"]


@pytest.mark.root
def test_overlay_changes_are_dockers_lines(overlay: tuple[Path, Path]) -> None:
    lower, upper = overlay
    lines = [f"{c.kind} {c.path}" for c in overlay_changes(upper, [lower])]
    assert lines == [
        "D /data", "A /data/fresh",
        "C /etc", "A /etc/added", "D /etc/group", "C /etc/passwd",
        "D /root",
        "A /tmp", "A /tmp/x",
        "C /var/lib", "A /var/lib/new",
    ]


@pytest.mark.root
def test_layer_tar_of_an_upper_has_oci_whiteouts(overlay: tuple[Path, Path]) -> None:
    _, upper = overlay
    out = io.BytesIO()
    diff_id = archive.diff(None, upper, out, skip=runtime_mount_point)
    assert diff_id.startswith("sha256:")
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = tar.getnames()
    assert {"etc/.wh.group", ".wh.root", "data/.wh..wh..opq", "data/fresh", "etc/added",
            "etc/passwd", "var/lib/new", "tmp/x"} <= set(names)
    assert "etc/hostname" not in names and "proc" not in names
    assert not any(n in ("etc/group", "root") for n in names)


def test_tree_changes_compare_two_full_trees(tmp_path: Path) -> None:
    """The native driver's snapshot is a full copy: changes come from comparing trees."""
    parent = _lower(tmp_path)
    tree = tmp_path / "tree"
    shutil.copytree(parent, tree, symlinks=True)
    (tree / "etc/group").unlink()
    (tree / "etc/added").write_text("a\n")
    shutil.rmtree(tree / "root")
    (tree / "proc").mkdir()
    for directory in ("etc", "", "var", "var/lib", "data", "bin"):
        shutil.copystat(parent / directory, tree / directory)
    lines = [f"{c.kind} {c.path}" for c in tree_changes(tree, parent)]
    assert lines == ["C /etc", "A /etc/added", "D /etc/group", "D /root"]


@pytest.mark.parametrize("driver", ["overlay", "native"])
def test_a_file_removed_while_diff_reads_is_left_out(tmp_path: Path, driver: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A running container removes files while its diff is read: the diff leaves them out
    instead of failing (FileNotFoundError). The removal is made to fall between the listing
    of a directory and the lstat of its entries, where a real one can fall."""
    lower = _lower(tmp_path)
    upper = tmp_path / "upper"
    if driver == "native":
        shutil.copytree(lower, upper, symlinks=True)
    (upper / "tmp").mkdir(parents=True)
    (upper / "tmp/kept").write_text("k\n")
    (upper / "tmp/scratch").write_text("s\n")
    listdir = os.listdir

    def racing_listdir(path: int | str | os.PathLike[str]) -> list[str]:
        names = listdir(path)
        if _listed(path) == upper / "tmp":
            (upper / "tmp/scratch").unlink(missing_ok=True)
        return names

    monkeypatch.setattr(os, "listdir", racing_listdir)
    changes = overlay_changes(upper, [lower]) if driver == "overlay" else \
        tree_changes(upper, lower)
    monkeypatch.undo()
    assert [f"{c.kind} {c.path}" for c in changes] == ["A /tmp", "A /tmp/kept"]


def _listed(path: int | str | os.PathLike[str]) -> Path:
    """The directory a listdir() call lists (by path or by descriptor)."""
    return Path(os.readlink(f"/proc/self/fd/{path}")) if isinstance(path, int) else Path(path)


@pytest.mark.parametrize("driver", ["overlay", "native"])
def test_diff_never_lists_through_a_directory_swapped_for_a_symlink(
        tmp_path: Path, driver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A running container swaps a directory of its own for a symlink to a host directory
    between diff's listing of the parent and its reading of that directory: diff follows no
    symlink, so no host name shows up (it did when directories were listed by path). The swap
    is made to fall just before the directory's own listing, after diff saw it a directory."""
    lower = _lower(tmp_path)
    host = tmp_path / "host-secrets"
    host.mkdir()
    (host / "host-only-name").write_text("x\n")
    upper = tmp_path / "upper"
    if driver == "native":
        shutil.copytree(lower, upper, symlinks=True)
    (upper / "work").mkdir(parents=True)
    (upper / "work/file").write_text("w\n")
    listdir = os.listdir

    def swapping_listdir(path: int | str | os.PathLike[str]) -> list[str]:
        if _listed(path) == upper / "work" and not (upper / "work").is_symlink():
            shutil.rmtree(upper / "work")
            (upper / "work").symlink_to(host)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", swapping_listdir)
    changes = overlay_changes(upper, [lower]) if driver == "overlay" else \
        tree_changes(upper, lower)
    monkeypatch.undo()
    assert not [c for c in changes if "host-only-name" in c.path]


# -- resolution inside a rootfs ------------------------------------------------------------


@pytest.fixture(params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "walk":
        monkeypatch.setattr(rootfs, "_openat2_works", False)
    return str(request.param)


def _hostile_rootfs(tmp_path: Path) -> tuple[Path, Path]:
    """A rootfs whose /etc/evil points at a host directory by every route out there is."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_text("host\n")
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    inside = root / str(host).lstrip("/")
    inside.mkdir(parents=True)
    (inside / "secret").write_text("inside\n")
    os.symlink("/.." * 12 + str(host), root / "etc/evil")
    os.symlink("../" * 12 + str(host).lstrip("/"), root / "etc/evil-relative")
    os.symlink(str(host), root / "etc/evil-absolute")
    os.symlink("loop", root / "etc/loop")
    return root, host


def _read_found(found: rootfs.Found) -> bytes:
    fd = os.open(found.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=found.parent_fd)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


@pytest.mark.parametrize("link", ["evil", "evil-relative", "evil-absolute"])
def test_symlinks_resolve_inside_the_rootfs(tmp_path: Path, resolver: str, link: str) -> None:
    root, _ = _hostile_rootfs(tmp_path)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found = rootfs.find(root_fd, f"/etc/{link}/secret", "c")
        try:
            assert _read_found(found) == b"inside\n"
        finally:
            found.close()
        found = rootfs.find(root_fd, f"/etc/{link}{'/..' * 30}/etc/{link}/secret", "c",
                            follow_link=True)  # ".." stops at the rootfs
        try:
            assert _read_found(found) == b"inside\n"
        finally:
            found.close()
        link_itself = rootfs.find(root_fd, f"/etc/{link}", "c")
        try:
            assert stat.S_ISLNK(link_itself.st.st_mode)
            assert link_itself.display == link
        finally:
            link_itself.close()
    finally:
        os.close(root_fd)


def test_resolution_errors(tmp_path: Path, resolver: str) -> None:
    root, _ = _hostile_rootfs(tmp_path)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(NotFound, match="Could not find the file /nope in container c"):
            rootfs.find(root_fd, "/nope", "c")
        with pytest.raises(FailedPrecondition, match="symbolic links"):
            rootfs.find(root_fd, "/etc/loop/x", "c")
        (root / "etc/file").write_text("f")
        with pytest.raises(NotFound, match="not a directory"):
            rootfs.find(root_fd, "/etc/file/", "c")
        with pytest.raises(NotFound):
            rootfs.find(root_fd, "/etc/file/x", "c")
    finally:
        os.close(root_fd)


def test_mount_points_are_made_inside_the_rootfs(tmp_path: Path, resolver: str) -> None:
    """cp's view makes a missing mount point as the runtime would: through the rootfs' own
    symlinks, never on the host."""
    root, host = _hostile_rootfs(tmp_path)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for link in ("evil", "evil-relative", "evil-absolute"):
            fd = rootfs.make_in_root(root_fd, f"/etc/{link}/made/{link}", directory=True)
            os.close(fd)
            inside = root / str(host).lstrip("/") / "made" / link
            assert inside.is_dir()
        fd = rootfs.make_in_root(root_fd, "/new/dir/file", directory=False)
        try:
            assert stat.S_ISREG(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        assert stat.S_IMODE((root / "new/dir/file").stat().st_mode) == 0o755
        os.close(rootfs.make_in_root(root_fd, "/new/dir/file", directory=False))  # there
        os.symlink("/nowhere/x", root / "dangling")
        with pytest.raises(FileExistsError):
            rootfs.make_in_root(root_fd, "/dangling", directory=True)
    finally:
        os.close(root_fd)
    assert sorted(p.name for p in host.iterdir()) == ["secret"]


def test_the_cp_view_mounts_volumes_binds_then_generated_files(tmp_path: Path) -> None:
    from pyengine.containers.fsview import ViewMount, container_path, sources
    from pyengine.containers.mounts import MountPoint

    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    points = [MountPoint(type="volume", destination="/a/b", source="/v/b/_data"),
              MountPoint(type="tmpfs", destination="/t"),
              MountPoint(type="bind", destination="/a", source="/h", rw=False),
              MountPoint(type="bind", destination="/etc/resolv.conf", source="/r")]
    bundle = {"mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/etc/hosts", "type": "bind", "source": str(hosts)},
        {"destination": "/etc/hostname", "type": "bind", "source": str(tmp_path / "none")},
        {"destination": "/etc/resolv.conf", "type": "bind", "source": str(hosts)}]}
    assert sources(points, bundle) == [
        ViewMount("/a", "/h", rw=False), ViewMount("/a/b", "/v/b/_data"),
        ViewMount("/etc/resolv.conf", "/r"),
        ViewMount("/etc/hosts", str(hosts), rw=True, volume=False)]
    assert sources([], None) == []
    assert container_path("/x/view", "/x/view") == "/"
    assert container_path("/x/view/a/b", "/x/view") == "/a/b"
    with pytest.raises(FailedPrecondition):
        container_path("/x/viewer", "/x/view")


def test_a_tree_is_read_through_descriptors(tmp_path: Path, resolver: str) -> None:
    root, host = _hostile_rootfs(tmp_path)
    (root / "etc/sub").mkdir()
    (root / "etc/sub/f").write_text("data")
    os.link(root / "etc/sub/f", root / "etc/sub/g")
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    out = io.BytesIO()
    try:
        found = rootfs.find(root_fd, "/etc", "c")
        try:
            writer = rootfs.FdTarWriter(out)
            writer.add_tree(found.parent_fd, found.name, found.display)
            writer.close()
        finally:
            found.close()
    finally:
        os.close(root_fd)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["etc/evil"].issym()
    assert members["etc/evil"].linkname == "/.." * 12 + str(host)
    assert members["etc/sub/f"].isfile() and members["etc/sub/g"].islnk()
    assert not any(name.endswith("secret") for name in members)  # never followed


def test_extraction_never_writes_through_a_container_symlink(tmp_path: Path) -> None:
    root, host = _hostile_rootfs(tmp_path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("evil/planted")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    etc = os.open(root / "etc", os.O_PATH | os.O_DIRECTORY)
    try:
        with pytest.raises(UnsafeLayer):
            archive.apply_layer(io.BytesIO(buffer.getvalue()), None, etc, whiteouts="remove")
    finally:
        os.close(etc)
    assert sorted(os.listdir(host)) == ["secret"]


# -- pyctl cp's argument rules -------------------------------------------------------------


def test_cp_arguments_and_renames() -> None:
    assert split_arg("c:/etc") == ("c", "/etc")
    assert split_arg("/local:path") == ("", "/local:path")
    assert split_arg("./a:b") == ("", "./a:b")
    assert split_arg("-") == ("", "-")
    assert _rename("data/sub/f", "new", False) == "new/sub/f"
    assert _rename("data", "new", False) == "new"
    assert _rename("data/sub", "", True) == "sub"
    assert _rename("data", "", True) is None
    assert _rename("data/x", "", False) == "data/x"


class _GoneReader(io.BufferedIOBase):
    """The client of a cp that was interrupted: the first write fails (later ones, the tar
    stream's close at garbage collection, are dropped)."""

    failed = False

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        if not self.failed:
            self.failed = True
            raise BrokenPipeError("the reader went away")
        return len(data)  # type: ignore[arg-type]  # bytes-like, as BufferedIOBase.write's


def test_a_tree_whose_reader_goes_away_closes_its_descriptors(tmp_path: Path) -> None:
    """cp from a container interrupted while a directory's header is written: the
    directory's descriptor is closed with the others (it was opened before its header)."""
    for n in range(100):
        (tmp_path / "d" / f"sub{n:03}").mkdir(parents=True)
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        before = len(os.listdir("/proc/self/fd"))
        writer = rootfs.FdTarWriter(_GoneReader())
        with pytest.raises(BrokenPipeError):
            writer.add_tree(root, "d", "d")
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        os.close(root)



@pytest.mark.root
def test_the_cp_view_binds_sources_privately_and_read_only(tmp_path: Path) -> None:
    """fsview.mount_into on a tmpfs standing for the rootfs: each source bound at its
    destination resolved inside the view (through the rootfs' own symlink), read-only where
    asked, a missing mount point made, and everything gone with the view's one detach."""
    if os.geteuid() != 0:
        pytest.skip("mounts need root")
    from pyengine.containers.fsview import Mounted, ViewMount, mount_into
    from pyengine.snapshots.mount import Mount, mount_all, unmount_all

    volume, ro_dir, hosts = tmp_path / "volume", tmp_path / "ro", tmp_path / "hosts"
    volume.mkdir()
    ro_dir.mkdir()
    (ro_dir / "kept").write_text("kept\n")
    hosts.write_text("127.0.0.1 localhost\n")
    view = tmp_path / "view"
    view.mkdir()
    mount_all([Mount("tmpfs", "tmpfs", ["mode=755"])], view)
    try:
        (view / "etc").mkdir()
        os.symlink("/etc", view / "data")  # the volume's destination goes through it
        mounted = mount_into(view, [ViewMount("/data/vol", str(volume)),
                                    ViewMount("/ro", str(ro_dir), rw=False),
                                    ViewMount("/etc/hosts", str(hosts), volume=False)])
        assert mounted == [Mounted("/etc/vol", True, True), Mounted("/ro", False, True),
                           Mounted("/etc/hosts", True, False)]
        (view / "etc/vol/new").write_text("in the volume\n")
        assert (volume / "new").read_text() == "in the volume\n"
        assert (view / "ro/kept").read_text() == "kept\n"
        with pytest.raises(OSError):
            (view / "ro/x").write_text("x")
        assert (view / "etc/hosts").read_text() == "127.0.0.1 localhost\n"
    finally:
        unmount_all(view)
    assert not os.path.ismount(view) and sorted(os.listdir(view)) == []
    assert sorted(os.listdir(volume)) == ["new"] and sorted(os.listdir(ro_dir)) == ["kept"]
