"""pyrunc.state (ids, the state dir, locking) and Container status derivation, in a temp dir
with ordinary processes standing in for the init (no root, no namespaces)."""

from __future__ import annotations

import datetime
import fcntl
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyrunc import jsonio, state
from pyrunc.container import Container
from pyrunc.errors import (
    ContainerExists,
    ContainerNotFound,
    InvalidState,
    PyruncError,
    StateDamaged,
    UsageError,
)


@pytest.mark.parametrize("cid", ["c1", "a", "A-b_c.d+e", "x" * 200, "0", "..a", "a..",
                                 "deadbeef" * 8])
def test_valid_ids(cid: str) -> None:
    assert state.validate_id(cid) is None  # accepted: no UsageError


@pytest.mark.parametrize("cid", ["", ".", "..", "a/b", "/a", "a b", "a\n", "é", "a:b", "a*",
                                 "a\x00b", "../x", "a\\b"])
def test_invalid_ids(cid: str) -> None:
    with pytest.raises(UsageError, match="invalid container id"):
        state.validate_id(cid)


def test_now_rfc3339() -> None:
    text = state.now_rfc3339()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", text), text
    when = datetime.datetime.fromisoformat(text[:26] + "+00:00")
    now = datetime.datetime.now(datetime.UTC)
    assert abs((now - when).total_seconds()) < 3600


def test_proc_start_time() -> None:
    mine = state.proc_start_time(os.getpid())
    assert isinstance(mine, int) and mine > 0
    assert state.proc_start_time(os.getpid()) == mine
    assert state.proc_start_time(2**22 + 12345) is None


def test_proc_start_time_of_a_zombie_is_none() -> None:
    child = subprocess.Popen([sys.executable, "-S", "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
        assert state.proc_start_time(child.pid) is None
    finally:
        child.wait()


def test_proc_start_time_handles_odd_process_names(tmp_path: Path) -> None:
    """comm may contain spaces and ')' : the parser must take the last ')'."""
    exe = tmp_path / "a) b (c"
    os.symlink(sys.executable, exe)
    child = subprocess.Popen([str(exe), "-S", "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        assert isinstance(state.proc_start_time(child.pid), int)
    finally:
        child.communicate(b"")


# -- the container directory ---------------------------------------------------------------------
def test_claim_write_read_remove(tmp_path: Path) -> None:
    root = tmp_path / "root"
    d = state.ContainerDir(str(root), "c1")
    d.claim()
    try:
        assert os.stat(root / "c1").st_mode & 0o777 == 0o700
        rec = state.ContainerRecord("c1", "/b", "/b/rootfs", "now")
        rec.status, rec.pid, rec.pid_start = "created", 7, 8
        d.write(rec)
        back = state.ContainerDir(str(root), "c1").read()
        assert back.to_json() == rec.to_json()
        assert (back.status, back.pid, back.pid_start) == ("created", 7, 8)
        assert state.list_ids(str(root)) == ["c1"]
    finally:
        d.remove()
    assert not (root / "c1").exists()
    assert state.list_ids(str(root)) == []


def test_claim_twice(tmp_path: Path) -> None:
    d = state.ContainerDir(str(tmp_path), "dup")
    d.claim()
    d.unlock()
    with pytest.raises(ContainerExists, match="container with id exists: dup"):
        state.ContainerDir(str(tmp_path), "dup").claim()


def test_read_missing(tmp_path: Path) -> None:
    with pytest.raises(ContainerNotFound, match="container does not exist"):
        state.ContainerDir(str(tmp_path), "nope").read()


def test_read_husk_without_record(tmp_path: Path) -> None:
    (tmp_path / "husk").mkdir()
    rec = state.ContainerDir(str(tmp_path), "husk").read()
    assert (rec.id, rec.status, rec.pid, rec.creator, rec.cgroup) == ("husk", "creating", 0,
                                                                        None, None)


def test_lock_is_exclusive_across_open_files(tmp_path: Path) -> None:
    d = state.ContainerDir(str(tmp_path), "c1")
    d.claim()  # holds the lock
    fd = os.open(tmp_path / "c1", os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        d.unlock()
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
        d.remove()


def test_lock_missing_container(tmp_path: Path) -> None:
    with pytest.raises(ContainerNotFound):
        state.ContainerDir(str(tmp_path), "nope").lock()


def test_list_ids_ignores_files_and_missing_root(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "stray-file").write_text("")
    assert state.list_ids(str(tmp_path)) == ["a", "b"]
    assert state.list_ids(str(tmp_path / "nope")) == []


def test_rmtree_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("precious")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("")
    os.symlink(outside, tree / "link-dir")
    os.symlink(outside / "keep", tree / "sub" / "link-file")
    os.mkfifo(tree / "exec.fifo")
    state.rmtree(str(tree))
    assert not tree.exists()
    assert (outside / "keep").read_text() == "precious"
    state.rmtree(str(tree))  # idempotent


# -- status derivation ---------------------------------------------------------------------------
@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    child = subprocess.Popen([sys.executable, "-S", "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def _record(tmp_path: Path, cid: str, **fields: object) -> Container:
    d = state.ContainerDir(str(tmp_path), cid)
    d.claim()
    d.unlock()
    base = {"id": cid, "bundle": "/b", "rootfs": "/b/rootfs",
            "created": "2026-01-01T00:00:00.000000000Z"}
    jsonio.write_atomic(d.state_path, base | fields)
    return Container.load(str(tmp_path), cid)


def test_created_then_running(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    c = _record(tmp_path, "c1", status="created", pid=sleeper.pid,
                pid_start=state.proc_start_time(sleeper.pid))
    os.mkfifo(c.dir.fifo_path)
    assert c.status() == "created"
    assert c.oci_state()["pid"] == sleeper.pid
    os.unlink(c.dir.fifo_path)
    assert c.status() == "running"


def test_stopped_when_the_init_is_gone(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    c = _record(tmp_path, "c1", status="created", pid=sleeper.pid,
                pid_start=state.proc_start_time(sleeper.pid))
    sleeper.kill()
    sleeper.wait()
    c.reload()
    st = c.oci_state()
    assert (st["status"], st["pid"]) == ("stopped", 0)


def test_pid_reuse_reads_as_stopped(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    """A live pid with a different start time is someone else: the container is stopped."""
    c = _record(tmp_path, "c1", status="created", pid=sleeper.pid,
                pid_start=state.proc_start_time(sleeper.pid) - 1)
    assert c.status() == "stopped"


def test_creating_while_the_creator_lives_then_stopped(tmp_path: Path,
                                                       sleeper: subprocess.Popen) -> None:
    c = _record(tmp_path, "c1", status="creating",
                creator=[sleeper.pid, state.proc_start_time(sleeper.pid)])
    assert c.status() == "creating"
    sleeper.kill()
    sleeper.wait()
    c.reload()
    assert c.status() == "stopped"


def test_husk_is_stopped_and_deletable(tmp_path: Path) -> None:
    (tmp_path / "husk").mkdir()
    c = Container.load(str(tmp_path), "husk")
    assert c.status() == "stopped"
    c.delete()
    assert not (tmp_path / "husk").exists()


def test_oci_state_fields(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    c = _record(tmp_path, "c1", status="created", pid=sleeper.pid,
                pid_start=state.proc_start_time(sleeper.pid), annotations={"k": "v"})
    st = c.oci_state()
    assert set(st) == {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                       "owner", "annotations"}
    assert st["id"] == "c1" and st["annotations"] == {"k": "v"}
    assert st["bundle"] == "/b" and st["rootfs"] == "/b/rootfs"


def test_verbs_refused_on_a_stopped_container(tmp_path: Path) -> None:
    c = _record(tmp_path, "c1", status="created", pid=state.PID_MAX, pid_start=1)
    with pytest.raises(InvalidState, match="container not running"):
        c.kill(15)
    with pytest.raises(InvalidState, match="stopped"):
        c.start()
    with pytest.raises(PyruncError):
        c.pause()
    c.delete()  # a stopped container needs no --force
    assert not (tmp_path / "c1").exists()


def test_delete_refuses_a_running_container_without_force(tmp_path: Path,
                                                          sleeper: subprocess.Popen) -> None:
    c = _record(tmp_path, "c1", status="created", pid=sleeper.pid,
                pid_start=state.proc_start_time(sleeper.pid))
    with pytest.raises(InvalidState, match="not stopped"):
        c.delete()
    assert sleeper.poll() is None
    c.delete(force=True)
    sleeper.wait()  # (delete may have reaped it already: it is our child here)
    assert state.proc_start_time(sleeper.pid) is None
    assert not (tmp_path / "c1").exists()


# -- the record: decoded once, strictly -----------------------------------------------------------
def _good() -> dict:
    return {"id": "c1", "bundle": "/b", "rootfs": "/b/rootfs", "created": "now",
            "status": "created", "pid": 10, "pid_start": 5, "annotations": {"a": "b"},
            "hooks": {"poststop": [{"path": "/bin/true"}]}, "namespaces": {"pid": None},
            "ociVersion": "1.0.2", "process": {"args": ["sh"]}, "seccomp": None,
            "resources": {}, "cgroup": {"mode": "v2", "paths": {"": "/sys/fs/cgroup/x"},
                                        "roots": {"": "/sys/fs/cgroup"}, "created": []}}


def test_record_round_trip() -> None:
    rec = state.ContainerRecord.decode(_good(), "c1")
    assert (rec.status, rec.pid, rec.pid_start, rec.oci_version) == ("created", 10, 5, "1.0.2")
    assert rec.to_json() == _good()


@pytest.mark.parametrize(("doc", "field"), [
    (None, "object"), ([], "object"), ("x", "object"), (5, "object"),
    ({"id": "c1"}, "bundle"),
    (_good() | {"id": "c2"}, "id"),
    (_good() | {"status": "running"}, "status"),
    (_good() | {"pid": "10"}, "pid"),
    (_good() | {"pid": True}, "pid"),
    (_good() | {"pid": -1}, "pid"),
    (_good() | {"pid": 2**40}, "pid"),
    (_good() | {"pid": None}, "pid"),  # created needs one
    (_good() | {"pid_start": -5}, "pid_start"),
    (_good() | {"pid_start": 1.5}, "pid_start"),
    (_good() | {"creator": [1]}, "creator"),
    (_good() | {"creator": [0, 1]}, "creator[0]"),
    (_good() | {"bundle": 5}, "bundle"),
    (_good() | {"annotations": {"a": 1}}, "annotations.a"),
    (_good() | {"hooks": {"poststop": "x"}}, "hooks.poststop"),
    (_good() | {"hooks": {"prestart": []}}, "hooks.prestart"),
    (_good() | {"process": []}, "process"),
    (_good() | {"cgroup": "x"}, "cgroup"),
    (_good() | {"cgroup": {"mode": "v3"}}, "cgroup.mode"),
    (_good() | {"cgroup": {"mode": "v2", "paths": {"": "rel"}, "roots": {"": "/r"}}},
     "cgroup.paths"),
])
def test_record_rejects(doc: object, field: str) -> None:
    with pytest.raises(ValueError, match=re.escape(field)):
        state.ContainerRecord.decode(doc, "c1")


@pytest.mark.parametrize("data", [b"", b"{", b"null", b"\xff\xfe", b"[" * 100000, b"{}",
                                  b'{"id": NaN}'])
def test_read_names_a_damaged_record(tmp_path: Path, data: bytes) -> None:
    d = state.ContainerDir(str(tmp_path), "c1")
    os.mkdir(d.path)
    Path(d.state_path).write_bytes(data)
    with pytest.raises(StateDamaged, match=r"^container c1: damaged state .*state.json: \S"):
        d.read()


def test_state_file_missing_next_to_its_cgroup_copy_is_damage(tmp_path: Path) -> None:
    d = state.ContainerDir(str(tmp_path), "c1")
    d.claim()
    rec = state.ContainerRecord.decode(_good(), "c1")
    d.write(rec)
    assert state.ContainerDir(str(tmp_path), "c1").read_cgroup() == rec.cgroup
    os.unlink(d.state_path)
    with pytest.raises(StateDamaged, match="missing"):
        d.read()
    rec.cgroup = None
    d.write(rec)  # the copy follows the record
    assert not os.path.exists(d.cgroup_path)
    d.remove()


def test_delete_force_of_a_damaged_record_without_a_cgroup_keeps_it(tmp_path: Path) -> None:
    """Its processes cannot be found: fail loudly, leave the state for a later retry."""
    os.mkdir(tmp_path / "c1")
    (tmp_path / "c1" / "state.json").write_bytes(b"[]")
    with pytest.raises(StateDamaged, match=r"c1.*cannot be found"):
        Container(str(tmp_path), "c1").delete(force=True)
    with pytest.raises(StateDamaged, match="c1"):
        Container(str(tmp_path), "c1").delete()
    assert (tmp_path / "c1" / "state.json").exists()


def test_claim_again_after_a_delete_removed_the_bare_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A delete that locks between create's mkdir and its flock sees a husk and removes it:
    the create claims the id again instead of failing."""
    real_lock = state.ContainerDir.lock
    calls = []

    def lock(self: state.ContainerDir) -> None:
        calls.append(1)
        if len(calls) == 1:
            Container(self.root, self.id).delete(force=True)  # the concurrent delete
        real_lock(self)

    monkeypatch.setattr(state.ContainerDir, "lock", lock)
    d = state.ContainerDir(str(tmp_path), "c1")
    d.claim()
    assert len(calls) == 3  # ours, the delete's, ours again
    assert os.path.isdir(d.path)
    d.remove()


def _lock_waiters(path: str) -> int:
    ino = os.stat(path).st_ino
    with open("/proc/locks") as f:
        return sum(1 for line in f if "->" in line and f":{ino} " in line)


def test_lock_refuses_a_directory_replaced_while_waiting(tmp_path: Path) -> None:
    d = state.ContainerDir(str(tmp_path), "c1")
    d.claim()
    got: list[BaseException | None] = []

    def waiter() -> None:
        try:
            state.ContainerDir(str(tmp_path), "c1").lock()
            got.append(None)
        except BaseException as err:  # handed to the main thread
            got.append(err)

    t = threading.Thread(target=waiter)
    t.start()
    _wait(lambda: _lock_waiters(d.path) == 1)
    state.rmtree(d.path)
    os.mkdir(d.path)  # claimed again by someone else
    d.unlock()
    t.join()
    assert isinstance(got[0], ContainerNotFound)


def test_cli_delete_force_reads_the_record_under_the_lock(tmp_path: Path,
                                                          sleeper: subprocess.Popen) -> None:
    """The race the fuzz found: delete --force starts while create holds the lock and has no
    record yet; create then records its init and unlocks. Delete must kill that init."""
    from pyrunc.cli.main import main

    d = state.ContainerDir(str(tmp_path), "c1")
    d.claim()  # "create": holds the lock, no record yet
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(
        main(["--root", str(tmp_path), "delete", "--force", "c1"])))
    t.start()
    try:
        _wait(lambda: _lock_waiters(d.path) == 1)
        jsonio.write_atomic(d.state_path, {
            "id": "c1", "bundle": "/b", "rootfs": "/b/rootfs", "created": "now",
            "status": "created", "pid": sleeper.pid,
            "pid_start": state.proc_start_time(sleeper.pid)})
    finally:
        d.unlock()
        t.join()
    assert rc == [0]
    assert state.proc_start_time(sleeper.pid) is None  # killed (a zombie, or reaped)
    assert not os.path.exists(d.path)


def _wait(predicate: Callable[[], bool]) -> None:
    """Poll (no time limit asserted: the test's own timeout bounds it)."""
    while not predicate():
        time.sleep(0.005)
