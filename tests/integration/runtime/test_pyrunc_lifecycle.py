"""pyrunc's lifecycle against the runc CLI contract containerd and podman rely on: create/start/
state/kill/delete, run's exit status, --detach/--keep, fds, stdio, console socket, --log."""

from __future__ import annotations

import array
import datetime
import json
import os
import re
import select
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from pyrunc_itest import Runtime, cgroup_dirs, wait_until

from tests.fixtures.procs import catches

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def ppid_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError("no PPid")


def test_create_start_kill_delete(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(["sh", "-c", "echo started; exec sleep 1000"])
    pid_file = tmp_path / "init.pid"
    out = tmp_path / "out"
    with open(out, "wb") as f:
        r = rt("create", "--bundle", str(b.path), "--pid-file", str(pid_file), b.id,
               stdout=f, stderr=f)
    assert r.rc == 0
    assert out.read_bytes() == b""  # nothing printed on success, and the init is blocked
    st = rt.state(b.id)
    assert st["status"] == "created"
    pid = st["pid"]
    assert pid > 0
    raw = pid_file.read_bytes()
    assert raw == str(pid).encode()  # decimal, no newline (containerd: strconv.Atoi)
    assert ppid_of(pid) == os.getpid()  # the init is the caller's child (we are a subreaper)
    assert st["id"] == b.id and st["bundle"] == str(b.path)
    assert st["rootfs"] == str(rt.rootfs)
    assert RFC3339_NANO.match(st["created"]), st["created"]
    assert {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} <= set(st)
    assert b.id in os.listdir(rt.root)
    assert cgroup_dirs(b.cgroups_path)

    r = rt("start", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    wait_until(lambda: out.read_bytes() == b"started\n", what="container output")
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("running", pid)

    r = rt("kill", b.id, "KILL")
    assert (r.rc, r.out, r.err) == (0, "", "")
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)

    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    r = rt("state", b.id)
    assert r.rc != 0 and "container does not exist" in r.err
    rt.assert_nothing_left(b)


@pytest.mark.parametrize("sig", ["9", "KILL", "SIGKILL", "TERM", "15", "sigterm"])
def test_kill_spellings_stop_the_container(rt: Runtime, sig: str) -> None:
    # pid 1 of a pid namespace ignores signals it has no handler for: trap TERM
    b = rt.bundle(["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    wait_until(lambda: catches(pid, signal.SIGTERM), what="the TERM trap")
    r = rt("kill", b.id, sig)
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    assert rt("delete", b.id).rc == 0
    rt.assert_nothing_left(b)


def test_kill_default_signal_is_term(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    wait_until(lambda: catches(pid, signal.SIGTERM), what="the TERM trap")
    assert rt("kill", b.id).rc == 0
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7


@pytest.mark.parametrize(("args", "status"), [(["true"], 0), (["sh", "-c", "exit 3"], 3),
                                              (["false"], 1)])
def test_run_exits_with_the_container_status(rt: Runtime, args: list[str], status: int) -> None:
    b = rt.bundle(args)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc == status, r
    assert (r.out, r.err) == ("", "")
    rt.assert_nothing_left(b)  # run deletes the container afterwards


def test_run_of_a_sigkilled_container_exits_137(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP)
    proc = rt.popen("run", "--bundle", str(b.path), b.id, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    try:
        wait_until(lambda: rt.status(b.id) == "running", what="running")
        assert rt("kill", b.id, "9").rc == 0
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 137, (out, err)
    rt.assert_nothing_left(b)


def test_run_forwards_sigterm(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"])
    proc = rt.popen("run", "--bundle", str(b.path), b.id, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    try:
        wait_until(lambda: rt.status(b.id) == "running", what="running")
        pid = rt.state(b.id)["pid"]
        wait_until(lambda: catches(pid, signal.SIGTERM), what="the TERM trap")
        proc.terminate()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 42


def test_run_detach(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(["sh", "-c", "echo detached; exec sleep 1000"])
    out = tmp_path / "out"
    with open(out, "wb") as f:
        r = rt("run", "--detach", "--bundle", str(b.path), b.id, stdout=f, stderr=f)
    assert r.rc == 0
    wait_until(lambda: out.read_bytes() == b"detached\n", what="output")
    st = rt.state(b.id)
    assert st["status"] == "running"
    assert ppid_of(st["pid"]) == os.getpid()
    assert rt("delete", b.id).rc != 0  # still running
    assert rt("delete", "--force", b.id).rc == 0
    rt.assert_nothing_left(b)


def test_run_keep_leaves_a_stopped_container(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "exit 5"])
    r = rt("run", "--keep", "--bundle", str(b.path), b.id)
    assert r.rc == 5
    st = rt.state(b.id)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    assert rt("list", "-q").out.split() == [b.id]
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    rt.assert_nothing_left(b)


def test_stdio_passes_through(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "cat; echo to-out; echo to-err >&2"])
    r = rt("run", "--bundle", str(b.path), b.id, input=b"from-stdin\n")
    assert r.rc == 0
    assert r.out == "from-stdin\nto-out\n"
    assert r.err == "to-err\n"


def test_create_with_stdio_of_the_caller(rt: Runtime, tmp_path: Path) -> None:
    """containerd: the runtime's stdio (pipes) become the container's stdio."""
    b = rt.bundle(["sh", "-c", "read line; echo got:$line; echo oops >&2"])
    r_in, w_in = os.pipe()
    out, err = tmp_path / "out", tmp_path / "err"
    try:
        with open(out, "wb") as fo, open(err, "wb") as fe:
            r = rt("create", "--bundle", str(b.path), b.id, stdin=r_in, stdout=fo, stderr=fe)
        assert r.rc == 0
        pid = rt.state(b.id)["pid"]
        assert rt("start", b.id).rc == 0
        os.write(w_in, b"hello\n")
    finally:
        os.close(r_in)
        os.close(w_in)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert out.read_text() == "got:hello\n"
    assert err.read_text() == "oops\n"


def _fd_numbers(text: str) -> set[int]:
    """`ls -l /proc/self/fd` → fd numbers, minus the directory ls itself opened."""
    fds = set()
    for line in text.splitlines():
        m = re.search(r"\s(\d+) -> (.*)$", line)
        if m and not re.match(r"/proc/\d+/fd$", m.group(2)):
            fds.add(int(m.group(1)))
    return fds


def _fd_files(tmp_path: Path) -> dict[int, str]:
    """fds 3, 4 and 7 open in the runtime's process (as a shim or a shell leaks them)."""
    return {n: str(tmp_path / f"fd{n}") for n in (3, 4, 7)}


def test_container_gets_only_stdio(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(["ls", "-l", "/proc/self/fd"])
    r = rt("run", "--bundle", str(b.path), b.id, fd_files=_fd_files(tmp_path))
    assert r.rc == 0, r
    assert _fd_numbers(r.out) == {0, 1, 2}, r.out


def test_preserve_fds(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(["sh", "-c", "ls -l /proc/self/fd; echo via-fd3 >&3; echo via-fd4 >&4"])
    r = rt("run", "--preserve-fds", "2", "--bundle", str(b.path), b.id,
           fd_files=_fd_files(tmp_path))
    assert r.rc == 0, r
    fds = _fd_numbers(r.out)
    assert {0, 1, 2, 3, 4} <= fds and 7 not in fds, r.out
    assert (tmp_path / "fd3").read_text() == "via-fd3\n"
    assert (tmp_path / "fd4").read_text() == "via-fd4\n"


def test_console_socket(rt: Runtime, tmp_path: Path) -> None:
    def tty_config(c: dict) -> None:
        c["process"]["terminal"] = True

    b = rt.bundle(["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo IS-A-TTY; tty; read x; echo got-$x"],
                  tty_config)
    sock_path = str(tmp_path / "pty.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(1)
    master = -1
    try:
        r = rt("create", "--bundle", str(b.path), "--console-socket", sock_path, b.id)
        assert (r.rc, r.out, r.err) == (0, "", "")
        listener.settimeout(20)
        conn, _ = listener.accept()  # containerd accepts only after create exited
        with conn:
            fds = array.array("i")
            msg, ancdata, _flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
            assert msg  # a non-empty payload (runc: "/dev/ptmx")
            assert len(ancdata) == 1
            level, kind, data = ancdata[0]
            assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            assert len(fds) == 1
            master = fds[0]
            assert conn.recv(1) == b""  # one message, then closed
        assert os.get_blocking(master)
        pid = rt.state(b.id)["pid"]
        assert rt("start", b.id).rc == 0
        output = b""
        while b"/dev/pts/0" not in output:
            ready, _, _ = select.select([master], [], [], 20)
            assert ready, output
            output += os.read(master, 4096)
        os.write(master, b"ok\n")
        while b"got-ok" not in output:
            ready, _, _ = select.select([master], [], [], 20)
            assert ready, output
            try:
                output += os.read(master, 4096)
            except OSError:
                break
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        text = output.decode().replace("\r", "")
        assert "IS-A-TTY\n" in text and "/dev/pts/0\n" in text and "got-ok" in text
    finally:
        listener.close()
        if master >= 0:
            os.close(master)


def test_log_json_on_failure(rt: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    log.write_bytes(b"")
    r = rt("create", "--bundle", str(tmp_path / "no-such-bundle"), "c-log",
           global_args=("--log", str(log), "--log-format=json"))
    assert r.rc != 0
    objs = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [o for o in objs if o.get("level") == "error"]
    assert errors, objs
    last = errors[-1]
    assert set(last) == {"level", "msg", "time"}
    assert "no-such-bundle" in last["msg"]
    assert r.err == last["msg"] + "\n"  # the bare message on stderr, as runc does
    assert r.out == ""
    when = datetime.datetime.fromisoformat(last["time"].replace("Z", "+00:00"))
    assert when.tzinfo is not None
    assert len(objs) == 1  # podman reads the whole file as ONE object


def test_log_text_on_stderr_without_log_file(rt: Runtime) -> None:
    r = rt("state", "nope")
    assert r.rc != 0 and r.out == ""
    line = r.err.strip()
    assert "\n" not in line
    assert re.match(r'^time="[^"]+" level=error msg="container does not exist"$', line), line


def test_version_format(rt: Runtime) -> None:
    r = rt("--version")
    assert r.rc == 0 and r.err == ""
    lines = r.out.splitlines()
    assert re.match(r"^pyrunc version \S+$", lines[0])
    assert lines[1].startswith("commit: ") and lines[2].startswith("spec: ")


def test_root_dir_mode_and_pid_file_replaced(rt: Runtime, tmp_path: Path) -> None:
    pid_file = tmp_path / "init.pid"
    pid_file.write_text("99999999\n")  # a stale file from an earlier container
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), "--pid-file", str(pid_file), b.id).rc == 0
    assert pid_file.read_text() == str(rt.state(b.id)["pid"])
    assert os.stat(rt.root).st_mode & 0o777 == 0o700
    # the container's state dir: nobody else may read or write it (runc: 0711, pyrunc: 0700)
    assert not os.stat(os.path.join(rt.root, b.id)).st_mode & 0o066
    assert sorted(os.listdir(tmp_path)) == ["init.pid"]  # no temp file left beside it


def test_debug_keeps_stdout_clean(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id, global_args=("--debug",)).rc == 0
    r = rt("state", b.id, global_args=("--debug",))
    assert r.rc == 0
    assert json.loads(r.out)["status"] == "created"  # debug lines never reach stdout
    r = rt("list", "--format", "json", global_args=("--debug",))
    assert [i["id"] for i in json.loads(r.out)] == [b.id]
