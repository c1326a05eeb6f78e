"""The v2 manager for real: a cgroup2 hierarchy mounted in a private mount namespace.

On this hybrid machine that hierarchy holds only the hugetlb controller, so what runs for real
here is cgroup.procs, subtree_control, cgroup.freeze/cgroup.events, cgroup.kill, the eBPF device
program (BPF_PROG_LOAD + BPF_PROG_ATTACH/REPLACE) and hugetlb; the other v2 writers are covered
by the unit tests against directory trees.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.fixtures.machine import hugepage_sizes

pytestmark = pytest.mark.root

PROBE = Path(__file__).with_name("v2_probe.py")
RUNTIME = Path(__file__).resolve().parents[3] / "runtime"


def test_v2_manager_in_private_cgroup2_mount(tmp_path: Path) -> None:
    mountpoint = tmp_path / "cgroup2"
    mountpoint.mkdir()
    name = f"pyrunc-test-v2-{uuid.uuid4().hex[:10]}"
    page_size = hugepage_sizes()[0]
    env = dict(os.environ, PYTHONPATH=str(RUNTIME))
    try:
        # The probe unshares its own mount namespace: nothing is mounted in ours.
        result = subprocess.run([sys.executable, str(PROBE), str(mountpoint), name, page_size],
                                env=env, capture_output=True, text=True, timeout=120,
                                check=False)
    finally:
        # cgroup2 is one hierarchy: whatever the probe left is visible at the host mount too.
        for leftover in (f"/sys/fs/cgroup/unified/{name}/ctr",
                         f"/sys/fs/cgroup/unified/{name}/ctr2", f"/sys/fs/cgroup/unified/{name}"):
            if os.path.isdir(leftover):
                os.rmdir(leftover)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "V2Manager"
    assert report["pids"] == [report["child"]]
    assert report["deny_kmsg"] == errno.EPERM          # not allowed by the program
    assert report["allow_null"] == 0                     # runc's default allowed devices
    assert report["programs_after_set"] == 1
    assert report["allow_kmsg_after_update"] == 0        # replaced program allows c 1:11 r
    assert report["programs_after_update"] == 1          # replaced, not stacked
    assert report["null_after_deny_rule"] == 0
    assert report["frozen"] == "FROZEN" and report["thawed"] == "THAWED"
    if "hugetlb" in report["controllers"]:   # hybrid here: cgroup2 holds hugetlb
        assert report["hugetlb_max"] == "0"
        assert page_size in report["stats_hugetlb"]
    else:
        assert "hugetlb controller is not enabled" in report["hugetlb_error"]
    assert report["child_status"] == -9                  # cgroup.kill
    assert report["sigterm_status"] == -15               # freeze, signal each pid, thaw
    assert report["thawed_after_sigterm"] == "THAWED"
    assert report["removed"] and report["parent_removed"]
    assert not os.path.ismount(mountpoint)
