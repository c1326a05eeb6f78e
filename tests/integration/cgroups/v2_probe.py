"""Runs the v2 manager for real against a private cgroup2 mount; prints one JSON report.

Started by test_v2_private.py as a separate process: it unshares its mount namespace, makes /
rprivate, mounts cgroup2 at argv[1] and drives pyrunc.cgroups with ``root=argv[1]`` (argv[2]: the
cgroup's name, argv[3]: a huge page size of this kernel). On this hybrid machine the cgroup2
hierarchy holds only hugetlb, so the features exercised for real are cgroup.procs,
cgroup.freeze, cgroup.kill, the eBPF device program and hugetlb (where cgroup2 has it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pyrunc.cgroups import new_manager
from pyrunc.cgroups.v2.devices import attached_programs
from pyrunc.errors import CgroupError
from pyrunc.linux.syscalls import CLONE_NEWNS, MS_PRIVATE, MS_REC, SYS
from pyrunc.spec.model import Resources, decode


def _resources(data: dict) -> Resources:
    """``linux.resources`` as the manager takes it: decoded like a config's."""
    return decode(Resources, data, "linux.resources")

# A child that opens each device named on stdin and reports the errno (0 = opened).
OPENER = (
    "import os, sys\n"
    "for line in sys.stdin:\n"
    "    try:\n"
    "        os.close(os.open(line.strip(), os.O_RDONLY))\n"
    "        print(0, flush=True)\n"
    "    except OSError as e:\n"
    "        print(e.errno, flush=True)\n"
)


def read_file(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def try_open(child: subprocess.Popen, path: str) -> int:
    child.stdin.write(path + "\n")
    child.stdin.flush()
    return int(child.stdout.readline())


def main() -> None:
    mountpoint, name, page_size = sys.argv[1], sys.argv[2], sys.argv[3]
    SYS.unshare(CLONE_NEWNS)
    SYS.mount(None, "/", None, MS_REC | MS_PRIVATE)
    SYS.mount("cgroup2", mountpoint, "cgroup2")
    report: dict = {}
    root_subtree = read_file(f"{mountpoint}/cgroup.subtree_control").split()
    report["controllers"] = read_file(f"{mountpoint}/cgroup.controllers").split()
    manager = new_manager(f"/{name}/ctr", name, root=mountpoint)
    report["kind"] = type(manager).__name__
    report["paths"] = manager.paths
    child = subprocess.Popen([sys.executable, "-c", OPENER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        manager.create()
        manager.apply(child.pid)
        report["pids"] = manager.pids()
        report["child"] = child.pid
        manager.set(_resources({"devices": [{"allow": False, "access": "rwm"}]}))
        report["deny_kmsg"] = try_open(child, "/dev/kmsg")
        report["allow_null"] = try_open(child, "/dev/null")
        report["programs_after_set"] = len(attached_programs(manager.path))
        manager.update(_resources({"devices": [{"allow": False, "access": "rwm"},
                                    {"allow": True, "type": "c", "major": 1, "minor": 11,
                                     "access": "r"}]}))
        report["allow_kmsg_after_update"] = try_open(child, "/dev/kmsg")
        report["programs_after_update"] = len(attached_programs(manager.path))
        manager.update(_resources({"devices": [{"allow": True, "access": "rwm"},
                                    {"allow": False, "type": "c", "major": 1, "minor": 3}]}))
        # Spec rules come before runc's defaults, which allow /dev/null again.
        report["null_after_deny_rule"] = try_open(child, "/dev/null")
        hugetlb = {"hugepageLimits": [{"pageSize": page_size, "limit": 0}]}
        manager.set(_resources({"devices": [{"allow": True, "access": "rwm"}],
                                **(hugetlb if "hugetlb" in report["controllers"] else {})}))
        if "hugetlb" in report["controllers"]:
            report["hugetlb_max"] = read_file(f"{manager.path}/hugetlb.{page_size}.max").strip()
        else:
            try:
                manager.update(_resources(hugetlb))
            except CgroupError as exc:
                report["hugetlb_error"] = str(exc)
        manager.freeze()
        report["frozen"] = manager.freezer_state()
        manager.thaw()
        report["thawed"] = manager.freezer_state()
        report["stats_hugetlb"] = manager.stats()["hugetlb"]
        saved = json.loads(json.dumps(manager.to_state()))
        reloaded = type(manager).from_state(saved)
        reloaded.kill_all(9)
        report["child_status"] = child.wait()
        reloaded.destroy()
        # Without SIGKILL, kill_all freezes (cgroup.freeze), signals each pid, then thaws.
        second = new_manager(f"/{name}/ctr2", name, root=mountpoint)
        sleeper = subprocess.Popen(["sleep", "100"])
        try:
            second.create()
            second.apply(sleeper.pid)
            second.kill_all(15)
            report["sigterm_status"] = sleeper.wait()
            report["thawed_after_sigterm"] = second.freezer_state()
            second.destroy()
        finally:
            if sleeper.poll() is None:
                sleeper.kill()
                sleeper.wait()
        report["removed"] = not os.path.exists(manager.path)
        report["parent_removed"] = not os.path.exists(os.path.dirname(manager.path))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for path in (manager.path, f"{os.path.dirname(manager.path)}/ctr2",
                     os.path.dirname(manager.path)):
            try:
                os.rmdir(path)
            except OSError:
                pass
        if "hugetlb" not in root_subtree:
            try:
                with open(f"{mountpoint}/cgroup.subtree_control", "w") as handle:
                    handle.write("-hugetlb")
            except OSError:
                pass
    print(json.dumps(report))


if __name__ == "__main__":
    main()
