"""The cgroup managers for real on this machine's hybrid layout (v1 controllers + cgroup2)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time

import pytest
from pyrunc.cgroups import from_state
from pyrunc.errors import CgroupError
from pyrunc.spec.model import Resources, decode

from tests.fixtures.machine import (
    first_existing,
    hugepage_sizes,
    mounted_v1_controllers,
    online_cpus,
    root_cpuset_mems,
    root_disk,
)


def _resources(data: dict) -> Resources:
    """``linux.resources`` as the manager takes it: decoded like a config's."""
    return decode(Resources, data, "linux.resources")

pytestmark = pytest.mark.root

OPENER = (
    "import os, sys\n"
    "for line in sys.stdin:\n"
    "    try:\n"
    "        os.close(os.open(line.strip(), os.O_RDONLY))\n"
    "        print(0, flush=True)\n"
    "    except OSError as e:\n"
    "        print(e.errno, flush=True)\n"
)


def read(path: str) -> str:
    with open(path) as handle:
        return handle.read().strip()


def try_open(child, path: str) -> int:
    child.stdin.write(path + "\n")
    child.stdin.flush()
    return int(child.stdout.readline())


def wait_until(check, what: str, bound: float = 60.0) -> None:
    """Poll a condition the kernel reaches asynchronously (a generous bound for a loaded machine,
    not a timing assertion)."""
    deadline = time.monotonic() + bound
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def test_layout_is_hybrid(sandbox) -> None:
    manager = sandbox.manager("c1")
    assert manager.mode == "hybrid"
    assert manager.paths[""] == f"/sys/fs/cgroup/unified/{sandbox.prefix}/c1"
    assert {"cpu", "memory", "devices", "freezer", "pids", "name=systemd"} <= set(manager.paths)


def test_create_apply_pids_destroy(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    child = sandbox.spawn("sleep", "100")
    manager.apply(child.pid)
    lines = read(f"/proc/{child.pid}/cgroup").splitlines()
    for line in lines:
        _, _names, path = line.split(":", 2)
        assert path == f"/{sandbox.prefix}/c1", line
    assert manager.pids() == [child.pid]
    child.kill()
    child.wait()
    manager.destroy()
    for path in manager.dirs() + manager.created:
        assert not os.path.exists(path)
    assert all(os.path.isdir(root) for root in manager.roots.values())
    manager.destroy()  # already removed: fine


def test_set_resources_read_back(sandbox) -> None:
    """Values this machine supports everywhere; the ones that depend on it are probed below."""
    manager = sandbox.manager("c1")
    manager.create()
    cpu = str(online_cpus()[-1])         # a single CPU: not the default set when there are two
    mems = str(root_cpuset_mems()[-1])
    major, minor = root_disk()           # throttles take a whole disk; its number varies
    page_size = hugepage_sizes()[0]
    manager.set(_resources({
        "memory": {"limit": 64 << 20, "reservation": 32 << 20, "swappiness": 10,
                   "disableOOMKiller": False, "kernel": 1 << 20},
        "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": cpu, "mems": mems},
        "pids": {"limit": 42},
        "blockIO": {"throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
                    "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 100}]},
        "hugepageLimits": [{"pageSize": page_size, "limit": 4 << 20}],
        "devices": [{"allow": False, "access": "rwm"}],
    }))
    p = manager.paths
    assert read(f"{p['memory']}/memory.limit_in_bytes") == str(64 << 20)
    assert read(f"{p['memory']}/memory.soft_limit_in_bytes") == str(32 << 20)
    assert read(f"{p['memory']}/memory.swappiness") == "10"
    assert read(f"{p['cpu']}/cpu.shares") == "512"
    assert read(f"{p['cpu']}/cpu.cfs_quota_us") == "20000"
    assert read(f"{p['cpuset']}/cpuset.cpus") == cpu
    assert read(f"{p['cpuset']}/cpuset.mems") == mems
    assert read(f"{p['pids']}/pids.max") == "42"
    assert read(f"{p['blkio']}/blkio.throttle.read_bps_device") == f"{major}:{minor} {1 << 20}"
    assert read(f"{p['blkio']}/blkio.throttle.write_iops_device") == f"{major}:{minor} 100"
    assert read(f"{p['']}/hugetlb.{page_size}.max") == str(4 << 20)
    devices = read(f"{p['devices']}/devices.list").splitlines()
    assert devices[:3] == ["c *:* m", "b *:* m", "c 1:3 rwm"]
    manager.update(_resources({"cpu": {"shares": 1024}}))
    assert read(f"{p['cpu']}/cpu.shares") == "1024"
    assert read(f"{p['pids']}/pids.max") == "42"


def test_swap_limit_where_swap_is_accounted(sandbox) -> None:
    """memory.memsw.* exists only with swap accounting; without it pyrunc says so (as runc)."""
    manager = sandbox.manager("c1")
    manager.create()
    memory = manager.paths["memory"]
    if first_existing(memory, "memory.memsw.limit_in_bytes"):
        manager.set(_resources({"memory": {"limit": 64 << 20, "swap": 128 << 20}}))
        assert read(f"{memory}/memory.memsw.limit_in_bytes") == str(128 << 20)
        # update: memory grows (memsw first) then shrinks (limit first).
        manager.update(_resources({"memory": {"limit": 256 << 20, "swap": 512 << 20}}))
        assert read(f"{memory}/memory.limit_in_bytes") == str(256 << 20)
        manager.update(_resources({"memory": {"limit": 16 << 20, "swap": 16 << 20}}))
        assert read(f"{memory}/memory.memsw.limit_in_bytes") == str(16 << 20)
    else:
        with pytest.raises(CgroupError, match="swap accounting"):
            manager.set(_resources({"memory": {"limit": 64 << 20, "swap": 128 << 20}}))


def test_blkio_weight_where_the_io_scheduler_has_one(sandbox) -> None:
    """blkio.bfq.weight exists with bfq, blkio.weight with CFQ (gone since 5.0); with mq-deadline,
    kyber or none only the blkio.throttle.* files do, and a weight is an error naming the file."""
    manager = sandbox.manager("c1")
    manager.create()
    blkio = manager.paths["blkio"]
    weight_file = first_existing(blkio, "blkio.bfq.weight", "blkio.weight")
    if weight_file:
        manager.update(_resources({"blockIO": {"weight": 300}}))
        assert read(f"{blkio}/{weight_file}") == "300"
    else:
        with pytest.raises(CgroupError, match=rf"set blockIO\.weight: {blkio}/blkio\.weight "
                                              r"does not exist \(not supported by this kernel's "
                                              r"I/O scheduler\)"):
            manager.update(_resources({"blockIO": {"weight": 300}}))


def test_hugetlb_limit_for_every_page_size(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    sizes = hugepage_sizes()
    manager.set(_resources({"hugepageLimits": [{"pageSize": size, "limit": 0} for size in sizes]}))
    for size in sizes:
        assert read(f"{manager.paths['']}/hugetlb.{size}.max") == "0", size
    assert set(manager.stats()["hugetlb"]) == set(sizes)


def test_realtime_on_a_first_level_cgroup(sandbox) -> None:
    """cpu.rt_* exist only on kernels built with RT_GROUP_SCHED: elsewhere the error names the
    file (runc fails the same way)."""
    manager = sandbox.manager("rt", f"/{sandbox.prefix}")
    manager.create()
    cpu = manager.paths["cpu"]
    resources = _resources({"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}})
    if first_existing(cpu, "cpu.rt_runtime_us"):
        manager.set(resources)
        assert read(f"{cpu}/cpu.rt_runtime_us") == "10000"
    else:
        with pytest.raises(CgroupError, match=r"cpu\.rt_period_us: No such file"):
            manager.set(resources)


def test_unsupported_here_is_a_clear_error(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    with pytest.raises(CgroupError, match=r"blkio\.leaf_weight does not exist"):
        manager.update(_resources({"blockIO": {"leafWeight": 300}}))
    with pytest.raises(CgroupError, match="cannot use unified on cgroup v1"):
        manager.update(_resources({"unified": {"memory.high": "1000000"}}))


@pytest.mark.parametrize(("controller", "resources", "name", "value"), [
    ("net_cls", {"network": {"classID": 0x100001}}, "net_cls.classid", str(0x100001)),
    ("net_prio", {"network": {"priorities": [{"name": "lo", "priority": 1}]}},
     "net_prio.ifpriomap", "lo 1"),
])
def test_network_controllers_where_mounted(sandbox, controller: str, resources: dict, name: str,
                                           value: str) -> None:
    """net_cls and net_prio are built into the kernel but mounted on some machines only."""
    manager = sandbox.manager("c1")
    if controller in mounted_v1_controllers():
        manager.create()
        manager.update(_resources(resources))
        assert value in read(f"{manager.paths[controller]}/{name}").splitlines()
    else:
        assert controller not in manager.paths
        manager.create()
        with pytest.raises(CgroupError, match=f"{controller} controller is not mounted"):
            manager.update(_resources(resources))


def test_v1_device_rules_are_enforced(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    child = sandbox.python(OPENER)
    manager.apply(child.pid)
    manager.set(_resources({"devices": [{"allow": False, "access": "rwm"}]}))
    assert try_open(child, "/dev/kmsg") == errno.EPERM
    assert try_open(child, "/dev/null") == 0
    manager.update(_resources({"devices": [{"allow": False, "access": "rwm"},
                                {"allow": True, "type": "c", "major": 1, "minor": 11,
                                 "access": "r"}]}))
    assert try_open(child, "/dev/kmsg") == 0


def test_freeze_thaw_and_kill_all_with_sigterm(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    child = sandbox.spawn("sleep", "100")
    manager.apply(child.pid)
    manager.freeze()
    assert manager.freezer_state() == "FROZEN"
    manager.thaw()
    assert manager.freezer_state() == "THAWED"
    reloaded = from_state(json.loads(json.dumps(manager.to_state())))
    reloaded.kill_all(signal.SIGTERM)  # not SIGKILL: frozen, then each pid signalled
    assert child.wait() == -signal.SIGTERM
    assert reloaded.freezer_state() == "THAWED"


def test_kill_all_sigkill_reaches_forked_children(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    child = sandbox.spawn("sh", "-c", "read go; sleep 100 & sleep 100 & wait",
                          stdin=subprocess.PIPE, text=True)
    manager.apply(child.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    wait_until(lambda: len(manager.pids()) == 3, "three processes in the cgroup")
    assert manager.kill_file() is not None  # hybrid: cgroup.kill on the cgroup2 side
    manager.kill_all(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    wait_until(lambda: manager.pids() == [], "cgroup empty after kill_all")


def test_stats_and_oom_kill_count(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    memory = {"limit": 32 << 20, "swappiness": 0}   # no swapping out of the OOM, swap or not
    if first_existing(manager.paths["memory"], "memory.memsw.limit_in_bytes"):
        memory["swap"] = 32 << 20   # swap accounting: the limit covers swap too
    page_size = hugepage_sizes()[0]
    manager.set(_resources({"memory": memory, "pids": {"limit": 20},
                 "hugepageLimits": [{"pageSize": page_size, "limit": 0}]}))
    child = sandbox.python("import sys\nsys.stdin.readline()\nb = bytearray(256 << 20)\n")
    manager.apply(child.pid)
    stats = manager.stats()
    assert set(stats) == {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"}
    assert stats["memory"]["usage"]["limit"] == 32 << 20
    assert stats["memory"]["usage"]["failcnt"] == 0
    assert stats["pids"] == {"current": 1, "limit": 20}
    assert page_size in stats["hugetlb"]   # from the cgroup2 side in hybrid mode
    assert manager.oom_kill_count() == 0
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.wait() == -signal.SIGKILL
    assert manager.oom_kill_count() == 1


def test_kill_all_on_a_paused_container(sandbox) -> None:
    manager = sandbox.manager("c1")
    manager.create()
    child = sandbox.spawn("sleep", "100")
    manager.apply(child.pid)
    manager.freeze()
    manager.kill_all(signal.SIGTERM)   # delivered on resume; the container stays paused
    assert manager.freezer_state() == "FROZEN"
    assert child.poll() is None
    manager.kill_all(signal.SIGKILL)   # cgroup.kill, then thawed so the v1-frozen task dies
    assert child.wait() in (-signal.SIGKILL, -signal.SIGTERM)
    assert manager.freezer_state() == "THAWED"
