"""tools/bench/build.py for real, in its smallest form: every builder set up (pyengined, buildah,
dockerd's classic builder and BuildKit when docker.io is installed), one round of cold and
cached builds each, and afterwards nothing of it left (processes, mounts, directories; the
module's guard checks the machine's network). Figures are printed, never asserted on."""

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
BENCH = REPO / "tools" / "bench" / "build.py"


def ours_left() -> list[str]:
    return left_by("buildbench-")


def test_bench_builds_with_every_builder_and_leaves_nothing() -> None:
    before = set(ours_left())  # another run of the bench on this machine is not ours
    result = subprocess.run([sys.executable, str(BENCH), "--json", "--runs", "1"],
                            capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    print(result.stderr[-4000:])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))
    expected = {"pyctl", "buildah"}
    if os.access("/usr/sbin/dockerd", os.X_OK):
        expected |= {"classic", "buildkit"}
    assert set(report["cold_s"]) == set(report["cached_s"]) == expected, report["errors"]
    assert all(v > 0 for v in (*report["cold_s"].values(), *report["cached_s"].values()))
    assert "cold pyctl/buildah" in report["ratios"]
    assert set(ours_left()) <= before
