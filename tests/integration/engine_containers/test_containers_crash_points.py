"""A daemon killed with -9 at a chosen step of create, start or rm (crash points:
PYENGINE_TEST_CRASH_AT, engine/pyengine/crashpoints.py) leaves nothing behind once it starts
again: no snapshot, bundle, mount, log directory, runtime state, cgroup, shim process or record
of a container never recorded; a container whose start was cut short is created again and
starts; one whose removal was cut short is gone. And restart policies hold across a kill -9:
a container that exits while the daemon is down is restarted by `always`, and on-failure's
count carries on."""

from __future__ import annotations

import glob
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine, restart_crashing_at
from pyengine.containers.strays import processes_in

pytestmark = [pytest.mark.root]


def _active_snapshots(engine: ContainerEngine) -> list[str]:
    from pyengine.snapshots import OverlaySnapshotter

    snapshots = OverlaySnapshotter(engine.data_root / "snapshots" / "overlay")
    try:
        return sorted(i.name for i in snapshots.walk() if i.kind == "active")
    finally:
        snapshots.close()


def _processes_in(bundles: Path) -> list[int]:
    """Processes working in a bundle (shims work in theirs)."""
    return [pid for bundle in bundles.iterdir() for pid in processes_in(bundle)]


def _mounts_under(directory: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mounts:
        return [line for line in mounts if f" {directory}/" in line]


@pytest.fixture
def crashing(make_engine: Callable[..., ContainerEngine]
             ) -> Iterator[Callable[[str], ContainerEngine]]:
    """A daemon restarted with a crash point set; the next start is without it."""
    def make(point: str) -> ContainerEngine:
        engine = make_engine()
        restart_crashing_at(engine, point)
        return engine

    yield make


def _crashed(engine: ContainerEngine, result) -> None:  # type: ignore[no-untyped-def]
    assert engine.process is not None
    assert engine.process.wait() == -signal.SIGKILL, result.stderr
    assert result.returncode != 0


def _nothing_left(engine: ContainerEngine, kept: list[str]) -> None:
    """Only the kept containers' bundles and log directories; no mount, shim or runtime state
    (no kept container runs)."""
    bundles = engine.exec_root / "containers"
    assert sorted(os.listdir(bundles)) == sorted(kept)
    assert sorted(os.listdir(engine.data_root / "containers")) == sorted(kept)
    assert _mounts_under(bundles) == []
    assert _processes_in(bundles) == []
    runtime_state = engine.exec_root / "runtime" / "pyengine"
    assert not runtime_state.exists() or os.listdir(runtime_state) == []


@pytest.mark.parametrize("point", ["create.after-snapshot", "create.rootfs-mounted",
                                   "create.before-record"])
def test_kill9_during_create(crashing: Callable[[str], ContainerEngine], point: str) -> None:
    engine = crashing(point)
    _crashed(engine, engine.pyctl("create", "--name", "never", "busybox"))
    assert _active_snapshots(engine)  # the crash left a writable layer behind
    engine.start()
    assert engine.out("ps", "-aq") == ""
    _nothing_left(engine, [])
    engine.stop()
    assert _active_snapshots(engine) == []
    engine.start()
    assert engine.out("run", "--rm", "--name", "never", "busybox", "echo", "ok") == "ok\n"


def test_kill9_during_start(crashing: Callable[[str], ContainerEngine]) -> None:
    engine = crashing("start.after-shim")
    _crashed(engine, engine.pyctl("run", "-d", "--name", "half", "busybox", "sleep", "1000"))
    bundles = engine.exec_root / "containers"
    assert _processes_in(bundles)  # the shim launched for the start lives on
    engine.start()
    cid = engine.out("ps", "-aq", "--no-trunc").strip()
    state = json.loads(engine.out("inspect", cid))[0]["State"]
    assert state["Status"] == "created"
    _nothing_left(engine, [cid])
    assert glob.glob(f"/sys/fs/cgroup/*/pyengine/{cid}") == []
    engine.out("start", cid)
    assert engine.out("exec", cid, "echo", "up") == "up\n"
    engine.out("rm", "-f", cid)
    _nothing_left(engine, [])


@pytest.mark.parametrize("point", ["remove.after-state", "remove.after-bundle"])
def test_kill9_during_rm(crashing: Callable[[str], ContainerEngine], point: str) -> None:
    engine = crashing(point)
    engine.out("run", "-d", "--name", "doomed", "busybox", "sleep", "1000")
    kept = engine.out("create", "--name", "kept", "busybox").strip()
    _crashed(engine, engine.pyctl("rm", "-f", "doomed"))
    engine.start()
    assert engine.out("ps", "-a", "--format", "{{.Names}}").split() == ["kept"]
    _nothing_left(engine, [kept])
    engine.stop()
    assert _active_snapshots(engine) == [kept]
    engine.start()
    engine.out("rm", "kept")


def _doc(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


def _kill_init(engine: ContainerEngine, ref: str) -> None:
    os.kill(_doc(engine, ref)["State"]["Pid"], signal.SIGKILL)


def _wait_restarted(engine: ContainerEngine, ref: str, count: int) -> dict:
    while True:  # bounded by the test run's own timeout
        doc = _doc(engine, ref)
        if doc["RestartCount"] == count and doc["State"]["Status"] == "running":
            return doc


def test_restart_policies_hold_across_a_daemon_kill9(
        make_engine: Callable[..., ContainerEngine]) -> None:
    engine = make_engine()
    engine.out("run", "-d", "--name", "always-c", "--restart", "always", "busybox", "sleep",
               "1000")
    engine.out("run", "-d", "--name", "retry-c", "--restart", "on-failure:2", "busybox",
               "sleep", "1000")
    _kill_init(engine, "retry-c")  # a failure (137) with the daemon up: the first retry
    _wait_restarted(engine, "retry-c", 1)
    engine.kill9()
    engine.start()
    assert sorted(engine.out("ps", "--format", "{{.Names}}").split()) == [
        "always-c", "retry-c"]
    # both exit while the daemon is down: the next daemon restarts them, counting on
    pids = {ref: _doc(engine, ref)["State"]["Pid"] for ref in ("always-c", "retry-c")}
    engine.kill9()
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    engine.start()
    for ref, count in (("always-c", 1), ("retry-c", 2)):
        doc = _wait_restarted(engine, ref, count)
        assert doc["State"]["Pid"] != pids[ref]
    # on-failure:2 used up: the next failure is final
    _kill_init(engine, "retry-c")
    assert engine.out("wait", "retry-c") == "137\n"
    doc = _doc(engine, "retry-c")
    assert (doc["State"]["Status"], doc["RestartCount"]) == ("exited", 2)
    engine.out("rm", "-f", "always-c", "retry-c")
