"""Crash recovery and concurrency: `pyrunc create` killed with SIGKILL at several points, inits
that die behind pyrunc's back, and concurrent verbs on one id. After each, `delete --force`
(what containerd's cleanup shim and podman call) must leave nothing behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pyrunc_itest import Bundle, Runtime, cgroup_dirs, gone, reap_children, wait_until

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]


def _kill_pid_file(path: Path) -> None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _state_is_sane(rt: Runtime, cid: str) -> None:
    r = rt("state", cid)
    if r.rc != 0:
        assert "container does not exist" in r.err, r
        return
    st = r.json()
    assert st["id"] == cid
    assert st["status"] in ("creating", "created", "running", "stopped"), st
    if st["status"] == "stopped":
        assert st["pid"] == 0


def _force_delete_cleans(rt: Runtime, b: Bundle) -> None:
    reap_children()  # what a shim does: reap the inits re-parented to it
    r = rt("delete", "--force", b.id)
    assert (r.rc, r.out) == (0, ""), r
    reap_children()
    rt.assert_nothing_left(b)


@pytest.mark.parametrize("kind", ["createRuntime", "prestart"])
def test_create_killed_while_a_runtime_hook_runs(rt: Runtime, tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "hook.pid"

    def mutate(c: dict) -> None:
        c["hooks"] = {kind: [{"path": "/bin/sh",
                              "args": ["sh", "-c", f"echo $$ > {marker}; exec sleep 1000"]}]}

    b = rt.bundle(SLEEP, mutate, own_rootfs=True)
    proc = rt.popen("create", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), what="hook started")
        assert cgroup_dirs(b.cgroups_path)  # create is mid-way: cgroup made, init forked
    finally:
        proc.kill()
        proc.wait()
        _kill_pid_file(marker)  # the hook is the runtime's child, not the container's
    _state_is_sane(rt, b.id)
    _force_delete_cleans(rt, b)


def test_create_killed_while_the_init_runs_a_create_container_hook(rt: Runtime,
                                                                   tmp_path: Path) -> None:
    """The init is blocked in its hook (inside the container's cgroup), not reading the sync
    socket: it survives pyrunc's death; delete --force must kill it and its hook."""
    marker = tmp_path / "hook.pid"

    def mutate(c: dict) -> None:
        # /proc is still the host's here (before pivot_root): its first stat field is the host
        # pid of the shell (the hook is pid 2 of the container's pid namespace)
        c["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": [
            "sh", "-c", f"read -r pid rest < /proc/self/stat; echo $pid > {marker}; "
            "exec sleep 1000"]}]}

    b = rt.bundle(SLEEP, mutate, own_rootfs=True)
    proc = rt.popen("create", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), what="hook started")
    finally:
        proc.kill()
        proc.wait()
    hook_pid = int(marker.read_text())
    init_pid = json.loads((Path(rt.root) / b.id / "state.json").read_text())["pid"]
    assert not gone(hook_pid) and not gone(init_pid)  # both survived pyrunc
    _state_is_sane(rt, b.id)
    _force_delete_cleans(rt, b)
    reap_children()
    assert gone(hook_pid) and gone(init_pid)  # gone (or reaped)


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06, 0.1, 0.2])
def test_create_killed_at_an_arbitrary_point(rt: Runtime, delay: float) -> None:
    b = rt.bundle(SLEEP, own_rootfs=True)
    proc = rt.popen("create", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        time.sleep(delay)
    finally:
        proc.kill()
        proc.wait()
    _state_is_sane(rt, b.id)
    _force_delete_cleans(rt, b)


def test_create_killed_at_random_points(rt: Runtime) -> None:
    """pyrunc's claim: a create killed with SIGKILL anywhere leaves a state the next command
    understands, and `delete --force` leaves nothing (random delays, fixed count)."""
    rng = random.Random()
    for _ in range(12):
        b = rt.bundle(SLEEP)
        proc = rt.popen("create", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        try:
            time.sleep(rng.uniform(0, 0.12))
        finally:
            proc.kill()
            proc.wait()
        _state_is_sane(rt, b.id)
        _force_delete_cleans(rt, b)


def test_force_delete_racing_create_leaves_all_or_nothing(rt: Runtime, tmp_path: Path) -> None:
    """`delete --force` started 0-8 ms after `create` (containerd's cleanup racing a create):
    afterwards the container either exists with its state and a live init, or nothing of it
    is left (no state dir, no init, no cgroup). Both exit without a traceback."""
    rng = random.Random()
    err_path = tmp_path / "create.err"  # a file: the init inherits create's stderr
    for _ in range(30):
        b = rt.bundle(SLEEP)
        with open(err_path, "wb") as err_file:
            create = rt.popen("create", "--bundle", str(b.path), b.id,
                              stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            time.sleep(rng.uniform(0, 0.008))
            deleted = rt("delete", "--force", b.id)
        finally:
            create.wait()
        create_err = err_path.read_bytes()
        reap_children()
        assert deleted.rc == 0 and "Traceback" not in deleted.err, deleted
        assert b"Traceback" not in create_err, create_err
        if os.path.exists(os.path.join(rt.root, b.id)):
            assert create.returncode == 0, create_err
            st = rt.state(b.id)
            assert st["status"] == "created", st
            assert str(st["pid"]) in "".join(
                Path(d, "cgroup.procs").read_text() for d in cgroup_dirs(b.cgroups_path))
            _force_delete_cleans(rt, b)
        else:
            rt.assert_nothing_left(b)


def test_create_stopped_then_killed(rt: Runtime, tmp_path: Path) -> None:
    """SIGSTOP pyrunc while its createRuntime hook runs, then SIGKILL it: no progress can be made
    between the two, so the kill lands exactly mid-create."""
    marker = tmp_path / "hook.pid"

    def mutate(c: dict) -> None:
        c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
            "sh", "-c", f"echo $$ > {marker}; exec sleep 1000"]}]}

    b = rt.bundle(SLEEP, mutate, own_rootfs=True)
    proc = rt.popen("create", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), what="hook")
        os.kill(proc.pid, signal.SIGSTOP)
        st = json.loads((Path(rt.root) / b.id / "state.json").read_text())
        assert st.get("pid"), st  # the init is recorded before any hook runs
        r = rt("state", b.id)
        assert r.rc == 0 and r.json()["status"] == "creating", r
        try:
            r = rt("start", b.id, timeout=30)  # blocked would be forever: the creator is stopped
        except subprocess.TimeoutExpired:
            pytest.fail("start blocks while another pyrunc creates the container")
        assert r.rc != 0 and "creat" in r.err, r  # not startable while being created
    finally:
        proc.kill()
        proc.wait()
        _kill_pid_file(marker)
    _force_delete_cleans(rt, b)


def test_created_init_killed_behind_our_back(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    r = rt("start", b.id)
    assert r.rc != 0 and len(r.err.strip().splitlines()) == 1
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    rt.assert_nothing_left(b)


def test_running_init_killed_behind_our_back(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: rt.status(b.id) == "stopped", what="stopped (zombie counts)")
    os.waitpid(pid, 0)
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    assert "stopped" in [x["status"] for x in json.loads(rt("list", "--format", "json").out)]
    r = rt("kill", b.id, "9")
    assert r.rc != 0 and "container not running" in r.err
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    rt.assert_nothing_left(b)


def test_state_dir_without_record_is_deletable(rt: Runtime) -> None:
    """A create killed right after claiming the id leaves a bare directory."""
    b = rt.bundle(SLEEP)
    os.makedirs(os.path.join(rt.root, b.id))
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    r = rt("delete", b.id)
    assert r.rc == 0, r
    assert not os.path.exists(os.path.join(rt.root, b.id))


# -- concurrency -------------------------------------------------------------------------
def _parallel(rt: Runtime, calls: list[tuple[str, ...]]) -> list:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda args: rt(*args), calls))


def test_concurrent_starts_start_once(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "out"
    b = rt.bundle(["sh", "-c", "echo started; exec sleep 1000"])
    with open(out, "wb") as f:
        assert rt("create", "--bundle", str(b.path), b.id, stdout=f).rc == 0
    results = _parallel(rt, [("start", b.id)] * 6)
    assert sorted(r.rc == 0 for r in results) == [False] * 5 + [True], results
    for r in results:
        if r.rc:
            assert len(r.err.strip().splitlines()) == 1 and "running" in r.err, r
    wait_until(lambda: out.read_bytes() == b"started\n")
    assert rt.state(b.id)["status"] == "running"


def test_concurrent_creates_of_one_id(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    results = _parallel(rt, [("create", "--bundle", str(b.path), b.id)] * 4)
    assert sorted(r.rc == 0 for r in results) == [False] * 3 + [True], results
    for r in results:
        if r.rc:
            assert "container with id exists" in r.err, r
    assert rt.state(b.id)["status"] == "created"
    assert rt("start", b.id).rc == 0
    assert rt.state(b.id)["status"] == "running"


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_start_and_delete(rt: Runtime, round_: int) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    calls = [("start", b.id), ("delete", "--force", b.id), ("start", b.id),
             ("delete", "--force", b.id), ("state", b.id), ("kill", b.id, "9")]
    if round_ % 2:
        calls.reverse()
    results = _parallel(rt, calls)
    for r in results:
        assert "Traceback" not in r.err, r
        assert len(r.err.strip().splitlines()) <= 1, r
    state_file = Path(rt.root) / b.id / "state.json"
    if state_file.exists():
        json.loads(state_file.read_text())  # never half-written
    _state_is_sane(rt, b.id)
    _force_delete_cleans(rt, b)
    # last (so the checks above still run): every delete --force succeeded, even the one that
    # found the container already deleted by the other
    deletes = [r for args, r in zip(calls, results, strict=True) if args[0] == "delete"]
    assert all(r.rc == 0 for r in deletes), deletes


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_force_deletes_all_succeed(rt: Runtime, round_: int) -> None:
    """containerd's shim `delete` and the cleanup shim's `delete --force` race like this."""
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    results = _parallel(rt, [("delete", "--force", b.id)] * 4)
    assert [r.rc for r in results] == [0] * 4, results
    assert all(r.out == "" and r.err == "" for r in results), results
    _force_delete_cleans(rt, b)


def test_concurrent_kill_and_delete_of_a_running_container(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    results = _parallel(rt, [("kill", b.id, "9"), ("delete", "--force", b.id),
                             ("kill", b.id, "KILL"), ("state", b.id)])
    for r in results:
        assert "Traceback" not in r.err, r
    assert results[1].rc == 0
    _force_delete_cleans(rt, b)


def test_delete_force_after_the_bundle_was_removed(rt: Runtime) -> None:
    b = rt.bundle(SLEEP, own_rootfs=True)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    subprocess.run(["rm", "-rf", str(b.path)], check=True)
    r = rt("delete", "--force", b.id)
    assert (r.rc, r.out) == (0, ""), r
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)
