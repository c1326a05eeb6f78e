"""tools/bench/network.py for real, in its smallest form: every manager set up (pyengined,
podman on its CNI bridge, dockerd on docker0), one round of each part, and afterwards nothing
of it left: the module's guard (tests/fixtures/hostnet.py) fails it when the machine's links,
routes, rules, iptables, named namespaces or CNI state changed; this test checks its processes,
temporary directories and mounts are gone. Figures are printed, never asserted on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_leftovers import left_by

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "tools" / "bench" / "network.py"


def ours_left() -> list[str]:
    return left_by("netbench-")


def test_bench_runs_every_part_and_leaves_nothing() -> None:
    before = set(ours_left())  # another run of the bench on this machine is not ours
    result = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--runs", "1", "--seconds", "0.2",
         "--connections", "30", "--run-rounds", "1", "--connect-rounds", "1"],
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    print(result.stderr[-4000:])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))
    paths = report["throughput"]["gbit_s"]
    assert {"loopback, no container", "pyctl published", "pyctl direct", "podman published",
            "podman direct"} <= set(paths), report.get("servers_failed")
    assert all(rate > 0 for rate in paths.values())
    assert {"pyctl bridge", "pyctl none", "podman bridge", "podman none"} <= set(
        report["run"]["ms"]), report["run"]["errors"]
    assert {"pyctl", "podman"} <= set(report["connect"]["connect_ms"]), report["connect"]
    assert set(report["latency"]["ms"]) == set(paths)
    if os.access("/usr/sbin/dockerd", os.X_OK):
        assert {"docker published", "docker direct"} <= set(paths)
    assert set(ours_left()) <= before
