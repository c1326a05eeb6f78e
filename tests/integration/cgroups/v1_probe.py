"""Runs the manager in pure v1 mode: the cgroup2 mount is hidden in a private mount namespace.

Started by test_cgroups_v1_private.py. With /sys/fs/cgroup/unified unmounted (as one has to for
crun on this machine) detection finds v1 only, so kill_all(SIGKILL) has no cgroup.kill and takes
the freeze + signal-every-pid path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

from pyrunc.cgroups import from_state, new_manager
from pyrunc.linux.syscalls import CLONE_NEWNS, MNT_DETACH, MS_PRIVATE, MS_REC, SYS
from pyrunc.spec.model import Resources, decode


def _resources(data: dict) -> Resources:
    """``linux.resources`` as the manager takes it: decoded like a config's."""
    return decode(Resources, data, "linux.resources")


def wait_until(check: Callable[[], bool], bound: float = 60.0) -> None:
    """Poll what the kernel reaches asynchronously; the report shows if it never did (a generous
    bound for a loaded machine, not a timing assertion)."""
    deadline = time.monotonic() + bound
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)


def main() -> None:
    name = sys.argv[1]
    SYS.unshare(CLONE_NEWNS)
    SYS.mount(None, "/", None, MS_REC | MS_PRIVATE)
    SYS.umount2("/sys/fs/cgroup/unified", MNT_DETACH)
    report: dict = {}
    manager = new_manager(f"/{name}/ctr", name)
    report["kind"] = type(manager).__name__
    report["keys"] = sorted(manager.paths)
    child = subprocess.Popen(["sh", "-c", "read go; sleep 100 & sleep 100 & wait"],
                             stdin=subprocess.PIPE, text=True)
    try:
        manager.create()
        manager.apply(child.pid)
        manager.set(_resources({"memory": {"limit": 64 << 20}, "pids": {"limit": 10}}))
        child.stdin.write("go\n")
        child.stdin.flush()
        wait_until(lambda: len(manager.pids()) == 3)
        report["pids_before"] = len(manager.pids())
        report["kill_file"] = manager.kill_file()
        reloaded = from_state(json.loads(json.dumps(manager.to_state())))
        reloaded.kill_all(9)
        report["status"] = child.wait()
        wait_until(lambda: not reloaded.pids())
        report["pids_after"] = reloaded.pids()
        report["freezer_after"] = reloaded.freezer_state()
        reloaded.destroy()
        report["removed"] = not reloaded.exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
