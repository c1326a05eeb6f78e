"""tests/fixtures/machine.py on faked sysfs/procfs layouts: the layouts of the machines this suite
does not run on (a root partition, root on overlay, other hugepage sizes, net_cls mounted)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fixtures import machine


def _device(directory: Path, dev: str, partition: bool = False) -> Path:
    directory.mkdir(parents=True)
    (directory / "dev").write_text(dev + "\n")
    if partition:
        (directory / "partition").write_text("1\n")
    return directory


def test_cpu_lists() -> None:
    assert machine.parse_cpu_list("0-3,5\n") == [0, 1, 2, 3, 5]
    assert machine.parse_cpu_list("0") == [0]
    assert machine.online_cpus() == machine.parse_cpu_list(
        Path("/sys/devices/system/cpu/online").read_text())


def test_root_disk_is_the_whole_disk_of_a_partition(tmp_path: Path) -> None:
    st = os.stat(tmp_path)
    here = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    disk = _device(tmp_path / "devices" / "nvme0n1", "259:0")
    _device(disk / "nvme0n1p2", here, partition=True)
    (tmp_path / "dev-block").mkdir()
    (tmp_path / "dev-block" / here).symlink_to(disk / "nvme0n1p2")
    assert machine.root_disk(str(tmp_path / "dev-block"), str(tmp_path / "block"),
                             root=str(tmp_path)) == (259, 0)


def test_root_disk_of_a_whole_disk_and_of_no_disk(tmp_path: Path) -> None:
    st = os.stat(tmp_path)
    here = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    _device(tmp_path / "dev-block" / here, "8:0")
    assert machine.root_disk(str(tmp_path / "dev-block"), str(tmp_path / "block"),
                             root=str(tmp_path)) == (8, 0)
    # Root on overlay or tmpfs: the first disk with a device behind it (not loop, not zram).
    _device(tmp_path / "block" / "loop0", "7:0")
    (_device(tmp_path / "block" / "vdb", "254:16") / "device").mkdir()
    assert machine.root_disk(str(tmp_path / "none"), str(tmp_path / "block"),
                             root=str(tmp_path)) == (254, 16)


def test_hugepage_sizes_in_cgroup_spelling(tmp_path: Path) -> None:
    for name in ("hugepages-1048576kB", "hugepages-2048kB", "hugepages-64kB"):
        (tmp_path / name).mkdir()
    assert machine.hugepage_sizes(str(tmp_path)) == ["64KB", "2MB", "1GB"]


def test_mounted_v1_controllers(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n")
    assert machine.mounted_v1_controllers(str(mountinfo)) == {"cpu", "net_cls", "net_prio",
                                                              "name=systemd"}
