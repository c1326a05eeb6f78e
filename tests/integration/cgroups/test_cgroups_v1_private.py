"""The manager in pure v1 mode for real: the cgroup2 mount hidden in a private mount namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

PROBE = Path(__file__).with_name("v1_probe.py")
RUNTIME = Path(__file__).resolve().parents[3] / "runtime"


def test_pure_v1_manager_kills_without_cgroup_kill() -> None:
    name = f"pyrunc-test-v1-{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, PYTHONPATH=str(RUNTIME))
    try:
        result = subprocess.run([sys.executable, str(PROBE), name], env=env,
                                capture_output=True, text=True, timeout=120, check=False)
    finally:
        for mount in Path("/sys/fs/cgroup").iterdir():
            for leftover in (mount / name / "ctr", mount / name):
                if leftover.is_dir():
                    leftover.rmdir()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "V1Manager"
    assert "" not in report["keys"] and "memory" in report["keys"]
    assert report["pids_before"] == 3
    assert report["kill_file"] is None
    assert report["status"] == -9
    assert report["pids_after"] == []
    assert report["freezer_after"] == "THAWED"
    assert report["removed"]
