"""v1 controller writers and the v1/hybrid manager against fake directory trees."""

from __future__ import annotations

from pathlib import Path

import pytest
from cgroup_fakes import make_files, read, resources
from cgroup_fakes import rules as rule_list
from pyrunc.cgroups import from_state, new_manager
from pyrunc.cgroups.v1 import blkio, cpu, cpuset, hugetlb, memory, net_cls, net_prio, pids
from pyrunc.errors import CgroupError

MEM_FILES = {"memory.limit_in_bytes": "9223372036854771712",
             "memory.memsw.limit_in_bytes": "9223372036854771712",
             "memory.soft_limit_in_bytes": "", "memory.swappiness": "60",
             "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"}


def test_memory_swap_written_first_when_growing(tmp_path: Path, writes: list) -> None:
    path = make_files(tmp_path, {**MEM_FILES, "memory.limit_in_bytes": "1000"})
    memory.apply(str(path), resources({"memory": {"limit": 2000, "swap": 4000, "reservation": 500,
                                        "swappiness": 10, "disableOOMKiller": True,
                                        "kernel": 1, "kernelTCP": 1}}))
    assert writes == [("memory.memsw.limit_in_bytes", "4000"), ("memory.limit_in_bytes", "2000"),
                      ("memory.soft_limit_in_bytes", "500"), ("memory.oom_control", "1"),
                      ("memory.swappiness", "10")]


def test_memory_limit_written_first_when_shrinking(tmp_path: Path, writes: list) -> None:
    path = make_files(tmp_path, {**MEM_FILES, "memory.limit_in_bytes": "100000"})
    memory.apply(str(path), resources({"memory": {"limit": 2000, "swap": 4000}}))
    assert [name for name, _ in writes] == ["memory.limit_in_bytes",
                                            "memory.memsw.limit_in_bytes"]


def test_memory_unlimited_also_unlimits_swap(tmp_path: Path, writes: list) -> None:
    path = make_files(tmp_path, MEM_FILES)
    memory.apply(str(path), resources({"memory": {"limit": -1}}))
    assert writes == [("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]


def test_memory_errors(tmp_path: Path) -> None:
    path = make_files(tmp_path, {"memory.limit_in_bytes": "0", "memory.swappiness": "60"})
    with pytest.raises(CgroupError, match="swap accounting"):
        memory.apply(str(path), resources({"memory": {"swap": 10}}))
    with pytest.raises(CgroupError, match="swappiness"):
        memory.apply(str(path), resources({"memory": {"swappiness": 101}}))
    assert memory.oom_kill_count(str(make_files(tmp_path / "m", MEM_FILES))) == 3


def test_cpu_writes_and_share_clamp(tmp_path: Path, writes: list) -> None:
    path = make_files(tmp_path, {"cpu.shares": "", "cpu.cfs_period_us": "", "cpu.cfs_quota_us": "",
                                 "cpu.rt_period_us": "", "cpu.rt_runtime_us": "",
                                 "cpu.cfs_burst_us": "", "cpu.idle": ""})
    cpu.apply(str(path), resources({"cpu": {"shares": 512, "quota": 50000, "period": 100000,
                                  "realtimeRuntime": 950, "realtimePeriod": 1000, "burst": 10,
                                  "idle": 0}}))
    assert writes == [("cpu.rt_period_us", "1000"), ("cpu.rt_runtime_us", "950"),
                      ("cpu.shares", "512"), ("cpu.cfs_period_us", "100000"),
                      ("cpu.cfs_quota_us", "50000"), ("cpu.cfs_burst_us", "10"), ("cpu.idle", "0")]
    # The kernel clamps shares; runc reports that as an error.
    (path / "cpu.shares").write_text("262144")
    original = cpu.fs.read_uint
    try:
        cpu.fs.read_uint = lambda d, n: 262144  # type: ignore[assignment]
        with pytest.raises(CgroupError, match="maximum allowed cpu-shares is 262144"):
            cpu.apply(str(path), resources({"cpu": {"shares": 500000}}))
    finally:
        cpu.fs.read_uint = original  # type: ignore[assignment]


def test_cpuset_pids_hugetlb_net(tmp_path: Path, writes: list) -> None:
    path = str(make_files(tmp_path, {"cpuset.cpus": "", "cpuset.mems": "", "pids.max": "",
                                     "hugetlb.2MB.limit_in_bytes": "", "net_cls.classid": "",
                                     "net_prio.ifpriomap": ""}))
    cpuset.apply(path, resources({"cpu": {"cpus": "0-1", "mems": "0"}}))
    pids.apply(path, resources({"pids": {"limit": -1}}))
    hugetlb.apply(path, resources({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}))
    net_cls.apply(path, resources({"network": {"classID": 1048577}}))
    net_prio.apply(path, resources({"network": {"priorities": [{"name": "eth0", "priority": 5}]}}))
    assert writes == [("cpuset.mems", "0"), ("cpuset.cpus", "0-1"), ("pids.max", "max"),
                      ("hugetlb.2MB.limit_in_bytes", "4194304"), ("net_cls.classid", "1048577"),
                      ("net_prio.ifpriomap", "eth0 5")]
    assert cpuset.parse_list("0-2,5") == [0, 1, 2, 5]


def test_blkio_bfq_weight_and_missing_leaf_weight(tmp_path: Path, writes: list) -> None:
    path = str(make_files(tmp_path, {"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "",
                                     "blkio.throttle.read_bps_device": ""}))
    blkio.apply(path, resources({"blockIO": {"weight": 500,
                                   "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
                                   "throttleReadBpsDevice": [{"major": 8, "minor": 0,
                                                              "rate": 1024}]}}))
    assert writes == [("blkio.bfq.weight", "500"), ("blkio.bfq.weight_device", "8:0 300"),
                      ("blkio.throttle.read_bps_device", "8:0 1024")]
    with pytest.raises(CgroupError, match=r"blkio\.leaf_weight does not exist"):
        blkio.apply(path, resources({"blockIO": {"leafWeight": 500}}))


# The blkio files each I/O scheduler leaves in a non-root v1 cgroup on kernel 6.x (CFQ's
# blkio.weight is from kernels before 5.0). Throttles work with all of them.
THROTTLE_ONLY = {"blkio.throttle.read_bps_device": "", "blkio.throttle.write_iops_device": ""}
SCHEDULER_LAYOUTS = {
    "bfq": {**THROTTLE_ONLY, "blkio.bfq.weight": "100", "blkio.bfq.weight_device": ""},
    "cfq": {**THROTTLE_ONLY, "blkio.weight": "500", "blkio.weight_device": ""},
    "mq-deadline": THROTTLE_ONLY,
}


@pytest.mark.parametrize("scheduler", sorted(SCHEDULER_LAYOUTS))
def test_blkio_weight_per_io_scheduler(tmp_path: Path, writes: list, scheduler: str) -> None:
    path = str(make_files(tmp_path, SCHEDULER_LAYOUTS[scheduler]))
    weight = resources({"blockIO": {"weight": 300, "weightDevice": [{"major": 254, "minor": 0,
                                                                     "weight": 200}]}})
    throttle = resources({"blockIO": {"throttleReadBpsDevice": [{"major": 254, "minor": 0,
                                                                  "rate": 1}]}})
    if scheduler == "mq-deadline":
        with pytest.raises(CgroupError, match=rf"^cgroup: set blockIO\.weight: {path}/blkio\."
                                              r"weight does not exist \(not supported by this "
                                              r"kernel's I/O scheduler\)$"):
            blkio.apply(path, weight)
        assert writes == []
    else:
        blkio.apply(path, weight)
        prefix = "blkio.bfq." if scheduler == "bfq" else "blkio."
        assert writes == [(prefix + "weight", "300"), (prefix + "weight_device", "254:0 200")]
    writes.clear()
    blkio.apply(path, throttle)
    assert writes == [("blkio.throttle.read_bps_device", "254:0 1")]


def _v1_tree(tmp_path: Path, unified: bool = False) -> Path:
    root = tmp_path / "cg"
    make_files(root / "memory" / "pod" / "c1", MEM_FILES)
    make_files(root / "devices" / "pod" / "c1", {"devices.allow": "", "devices.deny": "",
                                                 "devices.list": "a *:* rwm\n"})
    make_files(root / "freezer" / "pod" / "c1", {"freezer.state": "THAWED"})
    make_files(root / "pids" / "pod" / "c1", {"pids.max": "", "cgroup.procs": "12\n"})
    if unified:
        make_files(root / "unified", {"cgroup.controllers": "hugetlb",
                                      "cgroup.subtree_control": ""})
        make_files(root / "unified" / "pod", {"cgroup.controllers": "hugetlb",
                                              "cgroup.subtree_control": ""})
        make_files(root / "unified" / "pod" / "c1", {"hugetlb.2MB.max": "max",
                                                     "cgroup.controllers": "hugetlb",
                                                     "cgroup.kill": ""})
    return root


def test_v1_manager_set_order_devices_and_errors(tmp_path: Path, writes: list) -> None:
    root = _v1_tree(tmp_path)
    manager = new_manager("/pod/c1", "c1", root=str(root))
    assert manager.mode == "v1"
    manager.set(resources({"memory": {"limit": 1 << 20}, "pids": {"limit": 10},
                 "devices": [{"allow": False, "access": "rwm"},
                             {"allow": True, "type": "c", "major": 1, "minor": 11,
                              "access": "r"}]}))
    names = [name for name, _ in writes]
    assert names[:3] == ["memory.limit_in_bytes", "pids.max", "devices.deny"]
    device_writes = [w for w in writes if w[0].startswith("devices.")]
    assert device_writes[:4] == [("devices.deny", "a"), ("devices.allow", "c 1:11 r"),
                                 ("devices.allow", "c *:* m"), ("devices.allow", "b *:* m")]
    assert ("devices.allow", "c 136:* rwm") in device_writes
    with pytest.raises(CgroupError, match="cannot use unified on cgroup v1"):
        manager.update(resources({"unified": {"memory.high": "1"}}))
    with pytest.raises(CgroupError, match="net_cls controller is not mounted"):
        manager.update(resources({"network": {"classID": 1}}))
    with pytest.raises(CgroupError, match="hugetlb controller is not mounted"):
        manager.update(resources({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}))


def test_update_touches_only_given_sections(tmp_path: Path, writes: list) -> None:
    manager = new_manager("/pod/c1", "c1", root=str(_v1_tree(tmp_path)))
    manager.update(resources({"pids": {"limit": 5}}))
    assert writes == [("pids.max", "5")]


def test_hybrid_sends_hugetlb_to_cgroup2(tmp_path: Path, writes: list) -> None:
    root = _v1_tree(tmp_path, unified=True)
    manager = new_manager("/pod/c1", "c1", root=str(root))
    assert manager.mode == "hybrid"
    manager.update(resources({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}))
    assert ("cgroup.subtree_control", "+hugetlb") in writes
    assert read(root / "unified" / "pod" / "c1", "hugetlb.2MB.max") == "0"
    assert manager.kill_file() == f"{root}/unified/pod/c1/cgroup.kill"


def test_state_round_trip_and_pids(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path)
    manager = new_manager("/pod/c1", "c1", root=str(root))
    again = from_state(manager.to_state())
    assert type(again) is type(manager)
    assert again.paths == manager.paths and again.roots == manager.roots
    assert again.pids() == [12]
    assert again.freezer_state() == "THAWED"


def test_device_emulation_and_incremental_update(tmp_path: Path, writes: list) -> None:
    from pyrunc.cgroups.devices import container_rules
    from pyrunc.cgroups.v1 import devices

    rules = container_rules(rule_list([{"allow": False, "access": "rwm"},
                             {"allow": True, "type": "c", "major": 1, "minor": 11,
                              "access": "rw"},
                             {"allow": False, "type": "c", "major": 1, "minor": 11,
                              "access": "w"}]))
    allow, exceptions = devices.emulate(rules)
    assert not allow and exceptions[("c", 1, 11)] == "r"
    assert exceptions[("c", 136, -1)] == "rwm"
    allow_all = container_rules(rule_list([{"allow": True, "access": "rwm"}]))
    assert devices.emulate(allow_all)[0] is True
    listed = "\n".join(f"{k[0]} {'*' if k[1] < 0 else k[1]}:{'*' if k[2] < 0 else k[2]} {a}"
                       for k, a in exceptions.items())
    assert devices.parse_list(listed) == (False, exceptions)
    # Same rules already in place (deny default): nothing is written.
    path = make_files(tmp_path, {"devices.allow": "", "devices.deny": "",
                                 "devices.list": listed})
    devices.apply_rules(str(path), rules)
    assert writes == []
    # Dropping kmsg and adding fuse: only the two differences, no reset.
    devices.apply_rules(str(path), container_rules(
        rule_list([{"allow": False, "access": "rwm"},
         {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"}])))
    assert writes == [("devices.deny", "c 1:11 r"), ("devices.allow", "c 10:229 rwm")]


def test_malformed_state_is_a_cgroup_error() -> None:
    with pytest.raises(CgroupError, match="malformed"):
        from_state({"mode": "v1"})
    with pytest.raises(CgroupError, match="unknown cgroup mode"):
        from_state({"mode": "v3", "paths": {}, "roots": {}})
    with pytest.raises(CgroupError, match="not below the hierarchy root"):
        from_state({"mode": "v2", "paths": {"": "/etc"}, "roots": {"": "/sys/fs/cgroup"}})
