"""v2 writers, the v2 manager and the bpf(2) calls, against fake trees and a fake seam."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

import pytest
from cgroup_fakes import make_files, read, resources
from pyrunc.cgroups import new_manager
from pyrunc.cgroups.v2 import bpf, cpu, io, memory, unified
from pyrunc.cgroups.v2 import devices as v2_devices
from pyrunc.errors import CgroupError


def test_shares_to_weight_matches_runc() -> None:
    assert cpu.shares_to_weight(2) == 1
    assert cpu.shares_to_weight(1024) == 39
    assert cpu.shares_to_weight(262144) == 10000
    assert cpu.weight_to_shares(cpu.shares_to_weight(262144)) == 262144
    assert io.blkio_to_io_weight(10) == 1 and io.blkio_to_io_weight(1000) == 10000


def test_swap_conversion() -> None:
    assert memory.swap_to_v2(100, 300) == "200"
    assert memory.swap_to_v2(100, -1) == "max"
    assert memory.swap_to_v2(100, 0) is None
    with pytest.raises(CgroupError, match="without a memory limit"):
        memory.swap_to_v2(0, 300)
    with pytest.raises(CgroupError, match="should be bigger"):
        memory.swap_to_v2(300, 100)


def test_writers(tmp_path: Path, writes: list) -> None:
    path = str(make_files(tmp_path, {
        "memory.max": "", "memory.low": "", "memory.swap.max": "", "cpu.weight": "",
        "cpu.max": "", "cpu.max.burst": "", "cpuset.cpus": "", "cpuset.mems": "",
        "io.weight": "", "io.max": "", "pids.max": "", "hugetlb.2MB.max": "", "rdma.max": "",
        "cgroup.controllers": "cpu memory io pids hugetlb cpuset rdma"}))
    manager_resources = {
        "memory": {"limit": 1000, "swap": 3000, "reservation": 500, "swappiness": 3,
                   "disableOOMKiller": True},
        "cpu": {"shares": 1024, "quota": -1, "period": 50000, "burst": 0, "cpus": "0",
                "mems": "0"},
        "blockIO": {"weight": 1000, "throttleWriteIOPSDevice": [{"major": 8, "minor": 0,
                                                                 "rate": 0}]},
        "pids": {"limit": 7},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
        "rdma": {"mlx5_1": {"hcaHandles": 3}},
        "unified": {"memory.low": "600"},
    }
    from pyrunc.cgroups.v2.manager import V2Manager

    V2Manager({"": path}, {"": str(tmp_path.parent)})._set(resources(manager_resources), None)
    assert writes == [
        ("cpuset.cpus", "0"), ("cpuset.mems", "0"),
        ("cpu.weight", "39"), ("cpu.max", "max 50000"), ("cpu.max.burst", "0"),
        ("memory.swap.max", "2000"), ("memory.max", "1000"), ("memory.low", "500"),
        ("io.weight", "10000"), ("io.max", "8:0 wiops=max"),
        ("pids.max", "7"), ("hugetlb.2MB.max", "0"), ("rdma.max", "mlx5_1 hca_handle=3"),
        ("memory.low", "600"),
    ]


def test_v2_errors(tmp_path: Path) -> None:
    path = str(make_files(tmp_path, {"cgroup.controllers": "pids"}))
    from pyrunc.cgroups.v2.manager import V2Manager

    manager = V2Manager({"": path}, {"": str(tmp_path.parent)})
    with pytest.raises(CgroupError, match="memory controller is not enabled"):
        manager.update(resources({"memory": {"limit": 5}}))
    with pytest.raises(CgroupError, match="realtime"):
        manager.update(resources({"cpu": {"realtimeRuntime": 5}}))
    with pytest.raises(CgroupError, match="net_cls/net_prio do not exist"):
        manager.update(resources({"network": {"classID": 5}}))
    with pytest.raises(CgroupError, match="leafWeight"):
        manager.update(resources({"blockIO": {"leafWeight": 5}}))
    with pytest.raises(CgroupError, match="controller 'memory' is not available"):
        unified.apply(path, resources({"unified": {"memory.high": "5"}}))
    with pytest.raises(CgroupError, match="not a controller file"):
        unified.apply(path, resources({"unified": {"../x": "5"}}))


@pytest.mark.parametrize(("files", "expected"), [
    # bfq registered: io.bfq.weight takes the v1 value unconverted (runc's rule)
    ({"io.bfq.weight": "default 100", "io.weight": "default 100"},
     [("io.bfq.weight", "300"), ("io.bfq.weight", "254:0 200")]),
    # blk-iocost without bfq (mq-deadline, kyber, none): io.weight, converted
    ({"io.weight": "default 100"}, [("io.weight", "2930"), ("io.weight", "254:0 1920")]),
    # neither: an error naming both files, nothing written
    ({}, None),
])
def test_io_weight_per_io_scheduler(tmp_path: Path, writes: list, files: dict,
                                    expected: list | None) -> None:
    path = str(make_files(tmp_path, {"io.max": "", **files}))
    weights = resources({"blockIO": {"weight": 300, "weightDevice": [{"major": 254, "minor": 0,
                                                                      "weight": 200}]}})
    if expected is None:
        with pytest.raises(CgroupError, match=r"neither io\.bfq\.weight nor io\.weight exists"):
            io.apply(path, weights)
        with pytest.raises(CgroupError, match=r"neither io\.bfq\.weight nor io\.weight exists"):
            io.apply(path, resources({"blockIO": {"weightDevice": [{"major": 254, "minor": 0,
                                                                    "weight": 200}]}}))
        assert writes == []
    else:
        io.apply(path, weights)
        assert writes == expected


def test_create_enables_controllers_and_destroy_removes_created(tmp_path: Path,
                                                                writes: list) -> None:
    root = make_files(tmp_path / "cg", {"cgroup.controllers": "cpu memory pids",
                                        "cgroup.subtree_control": "pids"})
    manager = new_manager("/a/b", "b", root=str(root))
    assert manager.mode == "v2"
    # A fake tree has no interface files in new directories: give them as the kernel would.
    original_mkdir = os.mkdir

    def mkdir_with_files(path: str, mode: int = 0o777) -> None:
        original_mkdir(path, mode)
        make_files(Path(path), {"cgroup.controllers": "cpu memory pids",
                                "cgroup.subtree_control": ""})

    os.mkdir = mkdir_with_files  # type: ignore[assignment]
    try:
        manager.create()
    finally:
        os.mkdir = original_mkdir  # type: ignore[assignment]
    assert manager.created == [f"{root}/a", f"{root}/a/b"]
    assert writes == [("cgroup.subtree_control", "+cpu +memory"),
                      ("cgroup.subtree_control", "+cpu +memory +pids")]
    for directory in (root / "a" / "b", root / "a"):
        for name in ("cgroup.controllers", "cgroup.subtree_control"):
            os.unlink(directory / name)  # cgroupfs directories are empty to rmdir
    manager.destroy()
    assert not os.path.exists(root / "a") and os.path.isdir(root)
    manager.destroy()  # idempotent


class FakeSeam:
    """Records bpf(2) calls; program ids and fds come from a small table."""

    ctypes = ctypes

    def __init__(self, attached: list[int]) -> None:
        self.calls: list[tuple[int, bytes]] = []
        self.attached = attached

    def syscall(self, name: str, cmd: int, attr: ctypes.Array, size: int) -> int:
        assert name == "bpf" and size == 128
        self.calls.append((cmd, attr.raw))
        if cmd == bpf.BPF_PROG_QUERY:
            ids_address, capacity = struct.unpack_from("<QI", attr, 16)
            ids = (ctypes.c_uint32 * capacity).from_address(ids_address)
            for index, prog_id in enumerate(self.attached):
                ids[index] = prog_id
            struct.pack_into("<I", attr, 24, len(self.attached))
            return 0
        if cmd in (bpf.BPF_PROG_LOAD, bpf.BPF_PROG_GET_FD_BY_ID):
            return os.open("/dev/null", os.O_RDONLY)
        return 0


@pytest.mark.parametrize("attached, expected", [
    ([], [bpf.BPF_PROG_LOAD, bpf.BPF_PROG_QUERY, bpf.BPF_PROG_ATTACH]),
    ([7], [bpf.BPF_PROG_LOAD, bpf.BPF_PROG_QUERY, bpf.BPF_PROG_GET_FD_BY_ID,
           bpf.BPF_PROG_ATTACH]),
    ([7, 8], [bpf.BPF_PROG_LOAD, bpf.BPF_PROG_QUERY, bpf.BPF_PROG_ATTACH,
              bpf.BPF_PROG_GET_FD_BY_ID, bpf.BPF_PROG_DETACH,
              bpf.BPF_PROG_GET_FD_BY_ID, bpf.BPF_PROG_DETACH]),
])
def test_device_program_attach_replaces(tmp_path: Path, attached: list,
                                        expected: list) -> None:
    seam = FakeSeam(attached)
    v2_devices.apply_rules(str(tmp_path), [(False, "a", -1, -1, "rwm")], seam)  # type: ignore
    assert [cmd for cmd, _ in seam.calls] == expected
    load = seam.calls[0][1]
    prog_type, insn_cnt = struct.unpack_from("<II", load, 0)
    assert prog_type == bpf.BPF_PROG_TYPE_CGROUP_DEVICE and insn_cnt == 8
    attach = next(raw for cmd, raw in seam.calls if cmd == bpf.BPF_PROG_ATTACH)
    _, _, attach_type, flags, _ = struct.unpack_from("<IIIII", attach, 0)
    assert attach_type == bpf.BPF_CGROUP_DEVICE
    want = bpf.BPF_F_ALLOW_MULTI | (bpf.BPF_F_REPLACE if len(attached) == 1 else 0)
    assert flags == want


def test_stats_parsing(tmp_path: Path) -> None:
    path = make_files(tmp_path / "c", {
        "cpu.stat": "usage_usec 10\nuser_usec 4\nsystem_usec 6\nnr_periods 2\n"
                    "nr_throttled 1\nthrottled_usec 3\n",
        "memory.current": "4096", "memory.max": "max", "memory.stat": "anon 1\nfile 2\n",
        "memory.events": "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n",
        "memory.swap.current": "0", "memory.swap.max": "max", "pids.current": "3",
        "pids.max": "max", "io.stat": "8:0 rbytes=10 wbytes=0 rios=1 wios=0\n"})
    from pyrunc.cgroups.v2.manager import V2Manager

    manager = V2Manager({"": str(path)}, {"": str(tmp_path)})
    stats = manager.stats()
    assert stats["cpu"] == {"usage": {"total": 10000, "kernel": 6000, "user": 4000},
                            "throttling": {"periods": 2, "throttledPeriods": 1,
                                           "throttledTime": 3000}}
    assert stats["memory"]["usage"] == {"limit": 2**64 - 1, "usage": 4096, "failcnt": 5}
    assert stats["memory"]["cache"] == 2 and stats["memory"]["raw"] == {"anon": 1, "file": 2}
    assert stats["pids"] == {"current": 3}
    assert stats["blkio"]["ioServiceBytesRecursive"][0] == {"major": 8, "minor": 0,
                                                            "op": "Read", "value": 10}
    assert manager.oom_kill_count() == 1
    assert set(stats) == {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"}
    assert read(path, "pids.max") == "max"


def test_cpu_period_alone_keeps_quota(tmp_path: Path, writes: list) -> None:
    path = make_files(tmp_path, {"cpu.max": "20000 100000"})
    cpu.apply(str(path), resources({"cpu": {"period": 50000}}))
    assert writes == [("cpu.max", "20000 50000")]
    cpu.apply(str(path), resources({"cpu": {"quota": -1}}))
    assert read(path, "cpu.max") == "max"
