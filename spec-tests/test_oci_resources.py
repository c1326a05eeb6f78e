"""linux.resources written to the container's cgroups (read back from the host side)."""

from __future__ import annotations

from pathlib import Path

from spectest.bundle import PROBE, Container
from spectest.host import cgroup_dirs, last_listed


def cgroup_file(ctr: Container, controller: str, name: str) -> str:
    dirs = [d for d in cgroup_dirs(ctr.config["linux"]["cgroupsPath"])
            if d.parent.name == controller]
    assert dirs, f"no {controller} cgroup for {ctr.id}"
    return (dirs[0] / name).read_text().strip()


def created_with(make, resources: dict) -> Container:
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    ctr.config["linux"]["resources"].update(resources)
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    return ctr


def test_memory(make):
    ctr = created_with(make, {"memory": {"limit": 64 << 20, "reservation": 32 << 20}})
    assert cgroup_file(ctr, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(ctr, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)


def test_cpu(make):
    # One online CPU and memory node, read from the kernel (the CPU count differs per machine).
    cpu = last_listed("/sys/devices/system/cpu/online")
    mem = last_listed("/sys/fs/cgroup/cpuset/cpuset.mems")
    ctr = created_with(make, {"cpu": {"shares": 512, "quota": 50000, "period": 100000,
                                      "cpus": cpu, "mems": mem}})
    assert cgroup_file(ctr, "cpu", "cpu.shares") == "512"
    assert cgroup_file(ctr, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(ctr, "cpu", "cpu.cfs_period_us") == "100000"
    assert cgroup_file(ctr, "cpuset", "cpuset.cpus") == cpu
    assert cgroup_file(ctr, "cpuset", "cpuset.mems") == mem


def test_pids(make):
    ctr = created_with(make, {"pids": {"limit": 64}})
    assert cgroup_file(ctr, "pids", "pids.max") == "64"


def test_device_rules(make):
    ctr = created_with(make, {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 4, "minor": 64, "access": "r"},
        {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "rw"},
    ]})
    rules = cgroup_file(ctr, "devices", "devices.list").splitlines()
    assert "c 4:64 r" in rules and "b 7:0 rw" in rules, rules
    assert "c 1:3 rwm" in rules, "the default devices stay usable"
    assert "a *:* rwm" not in rules, rules


def _read_only_device_rules(make, path, major, minor):
    """The devices.list of a created container given `path` (c major:minor) as a linux.devices
    node with a deny-all, then allow-read resources rule for it (docker's --device PATH:r)."""
    ctr = make()
    ctr.config["linux"]["devices"] = [{"path": path, "type": "c", "major": major,
                                       "minor": minor, "fileMode": 0o666, "uid": 0, "gid": 0}]
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    ctr.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": major, "minor": minor, "access": "r"}]
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    return cgroup_file(ctr, "devices", "devices.list").splitlines()


def test_linux_devices_get_no_rule_of_their_own(make):
    """A linux.devices node is usable only as resources.devices allows it: runc 1.1.5 adds
    allow rules for its default devices, none for the spec's (docker's --device PATH:r)."""
    rules = _read_only_device_rules(make, "/dev/spec-char", 4, 64)
    assert "c 4:64 r" in rules and "c 4:64 rwm" not in rules, rules


def test_a_linux_devices_node_replaces_the_default_rule_of_its_path(make):
    """runc 1.1.5 drops a default allowed device whose path a linux.devices node has (the
    spec's takes priority): /dev/zero given with a read-only rule stays read-only (docker's
    --device /dev/zero:/dev/zero:r); the other defaults keep their rules. (Not /dev/null:
    runc reopens it for the init's stdio and fails when it is read-only.)"""
    rules = _read_only_device_rules(make, "/dev/zero", 1, 5)
    assert "c 1:5 r" in rules and "c 1:5 rwm" not in rules, rules
    assert "c 1:3 rwm" in rules, rules  # /dev/null's default stays


def test_container_sees_its_memory_limit(make):
    ctr = make()
    ctr.config["linux"]["resources"]["memory"] = {"limit": 48 << 20}
    ctr.config["linux"]["namespaces"].append({"type": "cgroup"})
    ctr.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                 "source": "cgroup", "options": ["nosuid", "noexec", "nodev",
                                                                 "ro"]})
    ctr.config["process"]["args"] = ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
    res = ctr.run()
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().strip() == str(48 << 20)
    assert not Path("/sys/fs/cgroup/memory", ctr.config["linux"]["cgroupsPath"].lstrip("/")
                    ).exists(), "run must remove the cgroup when the container exits"
