"""Shims outlive the daemon: after a restart (SIGTERM, or kill -9) the engine reconnects to
each running container's shim; the container keeps running, its log keeps flowing, stop works,
and an exit that happened while the daemon was away is not lost. A shim killed with -9 leaves
its container reported exited with a reason and nothing
leaked, under either shim."""

from __future__ import annotations

import glob
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from ctr_harness import SHIMS, ContainerEngine, shim_config, shim_pid

pytestmark = [pytest.mark.root]

TICKER = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done"


def _state(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]["State"]


def _ticks(engine: ContainerEngine, ref: str) -> list[int]:
    return [int(line.split()[1]) for line in engine.out("logs", ref).splitlines()]


def _wait_for_more_ticks(engine: ContainerEngine, ref: str, than: int) -> list[int]:
    while True:  # bounded by the test run's own timeout; no time assertion
        ticks = _ticks(engine, ref)
        if ticks and ticks[-1] > than:
            return ticks


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_running_container_survives_a_daemon_restart(
        make_engine: Callable[[], ContainerEngine], how: str) -> None:
    engine = make_engine()
    engine.out("run", "-d", "--name", "ticker", "busybox", "sh", "-c", TICKER)
    engine.out("run", "-d", "--name", "short", "busybox", "sh", "-c",
               "read x < /dev/zero; exit 4")  # exits only when killed below
    before = _state(engine, "ticker")
    first = _wait_for_more_ticks(engine, "ticker", 0)
    short_pid = _state(engine, "short")["Pid"]
    if how == "kill9":
        engine.kill9()
    else:
        assert engine.stop() == 0
    # while the daemon is away, one container exits: its status must not be lost
    os.kill(short_pid, signal.SIGKILL)
    engine.start()
    after = _state(engine, "ticker")
    assert (after["Status"], after["Pid"], after["StartedAt"]) == (
        "running", before["Pid"], before["StartedAt"])
    ticks = _wait_for_more_ticks(engine, "ticker", first[-1] + 5)
    # the copy goes on after the restart, every line once and in order: lines written while
    # the daemon was away waited in the fifo, and the daemon holds nothing it read unwritten
    # (test_containers_kill9_logs.py hammers this)
    assert ticks == list(range(1, ticks[-1] + 1)) and ticks[: len(first)] == first
    assert engine.out("wait", "short") == "137\n"
    assert _state(engine, "short")["Status"] == "exited"
    engine.out("stop", "-t", "1", "ticker")
    assert _state(engine, "ticker")["ExitCode"] == 137
    engine.out("rm", "ticker", "short")


@pytest.mark.parametrize("shim", SHIMS)
def test_a_shim_killed_with_sigkill_leaves_the_container_exited(
        pyrunc_shim: Path, make_engine: Callable[..., ContainerEngine], shim: str) -> None:
    engine = make_engine(config=shim_config(shim, pyrunc_shim))
    cid = engine.out("run", "-d", "--name", "orphan", "busybox", "sleep", "1000").strip()
    init = _state(engine, "orphan")["Pid"]
    socket = (engine.exec_root / "containers" / cid / "address").read_text().strip()
    socket = socket.removeprefix("unix://")
    assert os.path.exists(socket)
    assert _cgroups(cid)  # made by the runtime, under the engine's /pyengine parent
    os.kill(shim_pid(engine, cid), signal.SIGKILL)
    assert engine.out("wait", "orphan") == "255\n"
    state = _state(engine, "orphan")
    assert state["Status"] == "exited" and "shim lost" in state["Error"]
    # nothing leaked: the shim's socket, the runtime's state, the rootfs mount, the cgroups,
    # the container's processes
    assert not os.path.exists(socket)
    assert not (engine.exec_root / "runtime" / "pyengine" / cid).exists()
    with open("/proc/self/mountinfo") as mounts:
        assert cid not in mounts.read()
    assert _cgroups(cid) == []
    assert not _running(init)
    engine.out("rm", "orphan")
    assert not (engine.exec_root / "containers" / cid).exists()


def _cgroups(cid: str) -> list[str]:
    return glob.glob(f"/sys/fs/cgroup/*/pyengine/{cid}")


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for whoever reaps orphans here."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
