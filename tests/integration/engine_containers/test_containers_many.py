"""50 containers run at once (50 `pyctl run -d` in parallel): all run, all are listed, all
stop and are removed, and the daemon answers other calls while they start. No assertion on
time."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

COUNT = 50


def test_fifty_containers_started_concurrently(
        make_engine: Callable[..., ContainerEngine]) -> None:
    engine = make_engine()
    names = [f"many-{n}" for n in range(COUNT)]
    with ThreadPoolExecutor(max_workers=COUNT) as pool:
        runs = [pool.submit(engine.pyctl, "run", "-d", "--name", name, "busybox", "sleep",
                            "1000") for name in names]
        answered = 0
        while not all(run.done() for run in runs):  # the daemon stays responsive meanwhile
            version = engine.pyctl("version")
            assert version.returncode == 0, version.stderr
            answered += 1
        results = [run.result() for run in runs]
        assert answered
        failed = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
        assert failed == []
        assert sorted(engine.out("ps", "--format", "{{.Names}}").split()) == sorted(names)
        docs = json.loads(engine.out("inspect", *names))
        assert {d["State"]["Status"] for d in docs} == {"running"}
        assert len({d["State"]["Pid"] for d in docs}) == COUNT
        stops = [pool.submit(engine.pyctl, "stop", "-t", "1", name) for name in names]
        wait(stops)
        assert [s.result().returncode for s in stops] == [0] * COUNT
        docs = json.loads(engine.out("inspect", *names))
        assert {d["State"]["Status"] for d in docs} == {"exited"}
        removals = [pool.submit(engine.pyctl, "rm", name) for name in names]
        wait(removals)
        assert [r.result().returncode for r in removals] == [0] * COUNT
    assert engine.out("ps", "-aq") == ""
    assert os.listdir(engine.exec_root / "containers") == []
    assert os.listdir(engine.data_root / "containers") == []
    with open("/proc/self/mountinfo") as mounts:
        assert str(engine.exec_root / "containers") not in mounts.read()
