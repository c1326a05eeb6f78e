"""root (readonly, relative path, rootfsPropagation) and mounts (bind/rbind, tmpfs, proc,
sysfs, devpts, mqueue, cgroup)."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from spectest.host import mounts_under
from spectest.probe import mount_at, mount_options, observe


class HostDir:
    """A host directory with a file; mount_tmpfs() puts a tmpfs at sub/ (undone in close())."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "sub").mkdir(parents=True)
        (path / "file").write_text("from host\n")
        self.mounted: list[Path] = []

    def __str__(self) -> str:
        return str(self.path)

    def mount_tmpfs(self, shared: bool = False) -> Path:
        sub = self.path / "sub"
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "spectest", str(sub)],
                       check=True)
        self.mounted.append(sub)
        (sub / "inner").write_text("inner\n")
        if shared:
            subprocess.run(["mount", "--make-shared", str(sub)], check=True)
        return sub

    def close(self) -> None:
        for m in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(m)], check=False)


@pytest.fixture
def hostdir(tmp_path: Path):
    d = HostDir(tmp_path / "hostdir")
    try:
        yield d
    finally:
        d.close()


def test_readonly_root(make):
    ctr = make()
    got = observe(ctr, "creat", "/spectest-file")["creat"]
    assert not got["ok"] and got["errno"] == errno.EROFS


def test_writable_root(make):
    ctr = make()
    ctr.config["root"]["readonly"] = False
    got = observe(ctr, "creat", "/spectest-file")["creat"]
    assert got["ok"], got


def test_relative_root_path(make, rootfs):
    """containerd's form: root.path "rootfs" relative to the bundle (here a bind of the shared
    rootfs, unmounted afterwards)."""
    ctr = make()
    target = ctr.bundle / "rootfs"
    target.mkdir()
    subprocess.run(["mount", "--bind", rootfs, str(target)], check=True)
    try:
        ctr.config["root"]["path"] = "rootfs"
        assert observe(ctr, "cwd")["cwd"] == "/"
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_missing_cwd_on_a_readonly_root(make, rootfs):
    """The cwd is made before the root is remounted read-only (runc does)."""
    ctr = make()
    top = f"/spectest-cwd-{ctr.id}"
    ctr.config["process"]["cwd"] = f"{top}/a/b"
    try:
        assert ctr.config["root"]["readonly"]
        assert observe(ctr, "cwd")["cwd"] == f"{top}/a/b"
    finally:
        shutil.rmtree(Path(rootfs) / top.lstrip("/"), ignore_errors=True)


@pytest.mark.parametrize("propagation,expected", [
    ("private", "private"), ("rprivate", "private"), ("shared", "shared"),
    ("rshared", "shared"), ("unbindable", "unbindable"),
])
def test_rootfs_propagation(make, propagation, expected):
    ctr = make()
    ctr.config["linux"]["rootfsPropagation"] = propagation
    root = mount_at(observe(ctr, "mounts"), "/")
    assert root is not None
    assert expected in root["propagation"].split(","), root


def test_bind_mount_with_flags(make, hostdir):
    ctr = make()
    ctr.config["mounts"].append({"destination": "/mnt/a", "type": "bind", "source": str(hostdir),
                                 "options": ["bind", "ro", "nosuid", "nodev", "noexec"]})
    report = observe(ctr, "all", "/mnt/a/file")
    m = mount_at(report, "/mnt/a")
    assert m is not None, "no mount at /mnt/a"
    assert {"ro", "nosuid", "nodev", "noexec"} <= mount_options(m)
    f = report["paths"]["/mnt/a/file"]
    assert f["read_ok"] and f["read_len"] == len("from host\n")
    assert not f["write_ok"] and f["write_errno"] == errno.EROFS


def test_bind_mount_without_type(make, hostdir):
    """runtime-spec 1.1: a mount with "bind" in options is a bind mount whatever its type."""
    ctr = make()
    ctr.config["mounts"].append({"destination": "/mnt/a", "source": str(hostdir),
                                 "options": ["rbind", "rw"]})
    report = observe(ctr, "all", "/mnt/a/file")
    assert report["paths"]["/mnt/a/file"]["write_ok"]


def test_bind_is_not_recursive_rbind_is(make, hostdir):
    hostdir.mount_tmpfs()
    ctr = make()
    ctr.config["mounts"] += [
        {"destination": "/mnt/a", "type": "bind", "source": str(hostdir), "options": ["bind"]},
        {"destination": "/mnt/b", "type": "bind", "source": str(hostdir), "options": ["rbind"]},
    ]
    report = observe(ctr, "all", "/mnt/a/sub/inner", "/mnt/b/sub/inner")
    assert mount_at(report, "/mnt/a/sub") is None
    assert not report["paths"]["/mnt/a/sub/inner"]["exists"]
    assert mount_at(report, "/mnt/b/sub")["fstype"] == "tmpfs"
    assert report["paths"]["/mnt/b/sub/inner"]["read_ok"]


@pytest.mark.parametrize("option,expected", [
    ("private", "private"), ("rprivate", "private"), ("shared", "shared"),
    ("rshared", "shared"), ("slave", "slave"), ("rslave", "slave"),
    ("unbindable", "unbindable"),
])
def test_bind_mount_propagation(make, hostdir, option, expected):
    source = hostdir.mount_tmpfs(shared=True)
    ctr = make()
    ctr.config["linux"]["rootfsPropagation"] = "rshared" if expected == "shared" else "rslave"
    ctr.config["mounts"].append({"destination": "/mnt/c", "type": "bind", "source": str(source),
                                 "options": ["rbind", option]})
    m = mount_at(observe(ctr, "mounts"), "/mnt/c")
    assert m is not None
    assert expected in m["propagation"].split(","), m


def test_tmpfs_size_and_mode(make):
    ctr = make()
    ctr.config["mounts"].append({"destination": "/mnt/d", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["nosuid", "nodev", "size=1m", "mode=0700"]})
    m = mount_at(observe(ctr, "mounts"), "/mnt/d")
    assert m is not None and m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev"} <= mount_options(m)
    sopts = set(m["superoptions"].split(","))
    assert {"size=1024k", "mode=700"} <= sopts, sopts


def test_tmpfs_mount_target_is_created(make):
    ctr = make()
    ctr.config["root"]["readonly"] = False
    ctr.config["mounts"].append({"destination": "/run/spectest/deep", "type": "tmpfs",
                                 "source": "tmpfs", "options": ["size=1m"]})
    try:
        m = mount_at(observe(ctr, "mounts"), "/run/spectest/deep")
        assert m is not None and m["fstype"] == "tmpfs"
    finally:
        made = Path(ctr.config["root"]["path"]) / "run" / "spectest"
        if made.exists():
            (made / "deep").rmdir()
            made.rmdir()


def test_standard_filesystems(make):
    report = observe(make(), "mounts")
    expect = {"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs",
              "/dev/mqueue": "mqueue", "/sys": "sysfs"}
    for target, fstype in expect.items():
        m = mount_at(report, target)
        assert m is not None, f"no mount at {target}"
        assert m["fstype"] == fstype, m
    assert "ro" in mount_options(mount_at(report, "/sys"))
    assert {"nosuid", "noexec", "nodev"} <= mount_options(mount_at(report, "/dev/shm"))
    pts = set(mount_at(report, "/dev/pts")["superoptions"].split(","))
    assert {"mode=620", "ptmxmode=666", "gid=5"} <= pts, pts


def test_mounts_keep_config_order(make):
    report = observe(make(), "mounts")
    order = [m["target"] for m in report["mounts"]]
    wanted = ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]
    positions = [order.index(t) for t in wanted]
    assert positions == sorted(positions), order


def test_cgroup_mount(make):
    ctr = make()
    ctr.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                 "source": "cgroup",
                                 "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    report = observe(ctr, "mounts")
    below = [m for m in report["mounts"] if m["target"].startswith("/sys/fs/cgroup")]
    assert below, "nothing mounted at /sys/fs/cgroup"
    fstypes = {m["fstype"] for m in below}
    assert fstypes & {"cgroup", "cgroup2"}, below
    memory = mount_at(report, "/sys/fs/cgroup/memory")
    assert memory is not None and memory["fstype"] == "cgroup", [m["target"] for m in below]
    assert "ro" in mount_options(memory)


@pytest.mark.parametrize("link_kind", ["absolute", "relative"])
def test_mount_destination_symlink_stays_in_rootfs(make, rootfs, link_kind):
    """A symlink in the rootfs pointing outside must be resolved inside the rootfs: the mount
    (and any directory made for it) lands under the rootfs, never on the host."""
    ctr = make()
    host_dir = Path(f"/tmp/spectest-escape-{ctr.id}")
    link = Path(rootfs) / f"escape-{ctr.id}"
    target = str(host_dir) if link_kind == "absolute" else f"../../../../../../..{host_dir}"
    host_dir.mkdir()
    link.symlink_to(target)
    inside = Path(rootfs) / str(host_dir).lstrip("/")
    try:
        ctr.config["mounts"].append({"destination": f"/escape-{ctr.id}/sub", "type": "tmpfs",
                                     "source": "tmpfs", "options": ["size=1m"]})
        res = ctr.run()
        assert not (host_dir / "sub").exists(), "the runtime followed a symlink out of the rootfs"
        assert not mounts_under(str(host_dir))
        if res.returncode == 0:
            report = json.loads(res.stdout)
            assert mount_at(report, f"{host_dir}/sub") is not None or mount_at(
                report, f"/escape-{ctr.id}/sub") is not None, "mounted somewhere else"
    finally:
        link.unlink()
        for m in reversed(mounts_under(str(host_dir))):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(host_dir, ignore_errors=True)
        if inside.exists():
            shutil.rmtree(Path(rootfs) / "tmp" / inside.relative_to(Path(rootfs) / "tmp").parts[0],
                          ignore_errors=True)
