"""tools/bench/dockerapi.py for real, in its smallest form: pyengined (with its Docker API) and
dockerd 20.10 each in a namespace of its own, one round of every part for the three clients
(the docker CLI against each daemon, pyctl against pyengined), and afterwards nothing of it
left: the module's guard (tests/fixtures/hostnet.py) fails it when the machine's links, routes,
rules, iptables or named namespaces changed; this test checks its processes, temporary
directories and mounts are gone. Figures are printed, never asserted on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_leftovers import left_by

from tests.fixtures.demo_archive import demo_archive

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "tools" / "bench" / "dockerapi.py"
PARTS = ("run-none", "run-bridge", "parallel", "pull", "ps")


def test_bench_runs_every_part_for_every_client_and_leaves_nothing() -> None:
    demo_archive()  # the pull part pushes the demo's web image: made first on a fresh machine
    before = set(left_by("apibench-"))  # another run of the bench on this machine is not ours
    result = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--runs", "1", "--rounds", "1",
         "--parallel", "4", "--pull-runs", "1"],
        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    print(result.stderr[-4000:])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))
    clients = {"docker->pyengined", "pyctl->pyengined"}
    if os.access("/usr/sbin/dockerd", os.X_OK):
        clients.add("docker->dockerd")
    for part in PARTS:
        figures = report[part]
        values = figures.get("s") or figures.get("ms") or {}
        assert set(values) == clients, (part, figures.get("errors") or figures.get("error"))
        assert all(value > 0 for value in values.values())
    assert set(left_by("apibench-")) <= before
