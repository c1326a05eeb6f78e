"""pyrunc.state (ids, the state dir, locking) and Container status derivation, in a temp dir
with ordinary processes standing in for the init (no root, no namespaces)."""

from __future__ import annotations

import datetime
import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrunc import jsonio, state
from pyrunc.container import Container
from pyrunc.errors import ContainerExists, ContainerNotFound, InvalidState, PyruncError, UsageError


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
