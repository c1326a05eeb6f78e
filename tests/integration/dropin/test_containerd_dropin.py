"""containerd 1.6 (Debian) drives runc and pyrunc the same way: ``ctr run --runc-binary`` and
``runc`` found first on the shim's PATH (containerd's opt bin dir). Every test runs twice, once
per runtime; the test id says which."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import dropin_env as env
import pytest
from dropin_clients import LOOP
from dropin_pty import WAIT_FOR_SIZE, run_on_pty
from dropin_tasks_api import update_task

pytestmark = pytest.mark.root

CGROUP_V1 = Path("/sys/fs/cgroup")

def cgroup_file(daemon: env.Containerd, controller: str, container_id: str, name: str) -> Path:
    return CGROUP_V1 / controller / daemon.namespace / container_id / name


def test_run_rm_exit_codes(ctr):
    ok = ctr.run("sh", "-c", "echo out")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "out\n", "")  # runtime stays quiet
    failed = ctr.run("sh", "-c", "exit 3")
    assert failed.returncode == 3, failed.stderr
    listed = ctr.ctr("container", "ls", "-q").stdout.split()
    assert not set(ctr.created) & set(listed)


def test_stdin_stdout_stderr(ctr):
    result = ctr.run("sh", "-c", 'read a; read b; echo "$b $a"; echo to-stderr >&2',
                     input="line1\nline2\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "line2 line1\n"
    assert "to-stderr" in result.stderr


def test_env_and_cwd(ctr):
    result = ctr.run("sh", "-c", 'echo "$FOO"; pwd', flags=("--env", "FOO=bar baz",
                                                           "--cwd", "/tmp"))
    assert (result.returncode, result.stdout) == (0, "bar baz\n/tmp\n"), result.stderr


def test_create_failure_reported_through_json_log(ctr):
    result = ctr.run("no-such-command")
    assert result.returncode != 0
    assert "OCI runtime create failed" in result.stderr
    assert "executable file not found" in result.stderr
    assert "unable to retrieve OCI runtime error" not in result.stderr
    container_id = ctr.created[-1]
    assert not (ctr.daemon.runtime_root / container_id).exists()


def test_tty(ctr):
    container_id = ctr.new_id()
    ctr.created.append(container_id)
    argv = ctr.run_argv(container_id, "sh", "-c",
                        'tty; echo ready; read x; echo "got:$x"; exit 4', flags=("-t",))
    result = run_on_pty(argv, reply_to=("ready", "hello\r"))
    assert result.returncode == 4, result
    assert "/dev/pts/0" in result.output
    assert "got:hello" in result.output


def test_exec_exit_codes_and_output(ctr):
    container_id = ctr.start("sleep", "1000")
    ok = ctr.ctr("task", "exec", "--exec-id", "e0", container_id, "sh", "-c",
                 'echo "in $(pwd) as $(id -u)"')
    assert (ok.returncode, ok.stdout) == (0, "in / as 0\n"), ok.stderr
    failed = ctr.ctr("task", "exec", "--exec-id", "e1", container_id, "sh", "-c",
                     "echo err >&2; exit 7")
    assert failed.returncode == 7, failed.stderr
    assert "err" in failed.stderr
    cwd = ctr.ctr("task", "exec", "--exec-id", "e2", "--cwd", "/tmp", container_id, "pwd")
    assert (cwd.returncode, cwd.stdout) == (0, "/tmp\n"), cwd.stderr
    assert ctr.status(container_id) == "RUNNING"


def test_exec_tty(ctr):
    container_id = ctr.start("sleep", "1000")
    argv = ctr.daemon.ctr_argv("task", "exec", "-t", "--exec-id", "et", container_id,
                               "sh", "-c", 'tty; echo ready; read x; echo "got:$x"; exit 6')
    result = run_on_pty(argv, reply_to=("ready", "typed\r"))
    assert result.returncode == 6, result
    assert "/dev/pts/" in result.output
    assert "got:typed" in result.output


def test_exec_failure(ctr):
    container_id = ctr.start("sleep", "1000")
    result = ctr.ctr("task", "exec", "--exec-id", "bad", container_id, "no-such-command")
    assert result.returncode != 0
    assert "OCI runtime exec failed" in result.stderr
    assert "executable file not found" in result.stderr
    assert ctr.status(container_id) == "RUNNING"
    # the shim reads <bundle>/log.json as a stream of JSON objects {level, msg, time}
    entries = json_stream((ctr.daemon.bundle(container_id) / "log.json").read_text())
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors and "executable file not found" in errors[-1]["msg"]
    for entry in entries:
        assert set(entry) >= {"level", "msg"}, entry
        assert "time" not in entry or RFC3339.match(entry["time"]), entry


def test_ps_lists_init_and_exec(ctr):
    container_id = ctr.start("sleep", "1000")
    init_pid = ctr.pid(container_id)
    detached = ctr.ctr("task", "exec", "-d", "--exec-id", "bg", container_id, "sleep", "999")
    assert detached.returncode == 0, detached.stderr

    def pids() -> set[int]:
        rows = ctr.ctr("task", "ps", container_id, check=True).stdout.splitlines()[1:]
        return {int(row.split()[0]) for row in rows if row.strip()}

    listed = env.wait_for(lambda: _exactly(pids(), 2), timeout=10,
                          what="two processes in ctr task ps")
    assert init_pid in listed
    other = (listed - {init_pid}).pop()
    assert Path(f"/proc/{other}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", b"999"]


def test_pause_resume(ctr):
    container_id = ctr.start("sh", "-c", LOOP)
    freezer = cgroup_file(ctr.daemon, "freezer", container_id, "freezer.state")
    paused = ctr.ctr("task", "pause", container_id)
    assert paused.returncode == 0, paused.stderr
    assert ctr.status(container_id) == "PAUSED"
    assert freezer.read_text().strip() == "FROZEN"
    resumed = ctr.ctr("task", "resume", container_id)
    assert resumed.returncode == 0, resumed.stderr
    assert ctr.status(container_id) == "RUNNING"
    assert freezer.read_text().strip() == "THAWED"


def test_update_through_tasks_api(ctr):
    container_id = ctr.start("sleep", "1000")
    update_task(ctr.daemon.address, ctr.daemon.namespace, container_id,
                {"memory": {"limit": 64 << 20}, "cpu": {"shares": 512}})
    limit = cgroup_file(ctr.daemon, "memory", container_id, "memory.limit_in_bytes")
    assert int(limit.read_text()) == 64 << 20
    shares = cgroup_file(ctr.daemon, "cpu", container_id, "cpu.shares")
    assert int(shares.read_text()) == 512
    assert ctr.status(container_id) == "RUNNING"


def test_kill_with_signals(ctr):
    script = ("trap 'echo usr1 >> /tmp/signals' USR1; "
              "trap 'echo term >> /tmp/signals; exit 42' TERM; "
              f"touch /tmp/ready; {LOOP}")
    container_id = ctr.start("sh", "-c", script)
    rootfs = ctr.rootfs(container_id)
    env.wait_for(lambda: (rootfs / "tmp" / "ready").exists(), what="the traps to be set")
    signals = rootfs / "tmp" / "signals"
    assert ctr.ctr("task", "kill", "-s", "SIGUSR1", container_id).returncode == 0
    env.wait_for(lambda: signals.exists() and signals.read_text() == "usr1\n",
                 what="SIGUSR1 to be handled")
    assert ctr.status(container_id) == "RUNNING"
    assert ctr.ctr("task", "kill", "-s", "SIGTERM", container_id).returncode == 0
    ctr.wait_status(container_id, "STOPPED")
    assert signals.read_text() == "usr1\nterm\n"
    assert ctr.delete_task(container_id) == 42


def test_kill_all(ctr):
    # pid 1 (sh, no TERM handler) ignores SIGTERM; only --all reaches the two sleeps, then
    # `wait` returns and the task ends
    container_id = ctr.start("sh", "-c", "sleep 1001 & sleep 1002 & wait")
    init_pid = ctr.pid(container_id)
    children = env.wait_for(lambda: _exactly(_children(init_pid), 2),
                            what="both sleeps to start")
    assert ctr.ctr("task", "kill", "-s", "SIGTERM", container_id).returncode == 0
    assert ctr.status(container_id) == "RUNNING"
    result = ctr.ctr("task", "kill", "-a", "-s", "SIGTERM", container_id)
    assert result.returncode == 0, result.stderr
    ctr.wait_status(container_id, "STOPPED")
    assert not [pid for pid in children if _alive(pid)]


def test_delete(ctr):
    container_id = ctr.start("sleep", "1000")
    init_pid = ctr.pid(container_id)
    state_dir = ctr.daemon.runtime_root / container_id
    memory_cgroup = cgroup_file(ctr.daemon, "memory", container_id, "")
    assert state_dir.is_dir() and memory_cgroup.is_dir()
    refused = ctr.ctr("task", "delete", container_id)
    assert refused.returncode != 0
    assert ctr.status(container_id) == "RUNNING"
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    ctr.wait_status(container_id, "STOPPED")
    assert ctr.delete_task(container_id) == 137
    assert container_id not in ctr.daemon.tasks()
    assert not _alive(init_pid)
    assert not state_dir.exists()
    assert not memory_cgroup.exists()
    assert ctr.ctr("container", "delete", container_id).returncode == 0


# -- pyrunc as `runc` on the shim's PATH (containerd's opt bin dir) --------------------------------
@pytest.fixture
def path_runc(ctr):
    """Install a logging wrapper named ``runc`` in containerd's opt bin dir for this test."""
    wrapper = ctr.daemon.opt_bin / "runc"
    calls = ctr.daemon.base / f"calls-{os.getpid()}.log"
    calls.write_text("")
    temp = wrapper.with_suffix(".tmp")
    temp.write_text(f'#!/bin/sh\necho "{ctr.runtime.path} $*" >> {calls}\n'
                    f'exec {ctr.runtime.path} "$@"\n')
    temp.chmod(0o755)
    os.replace(temp, wrapper)
    yield calls
    ctr.cleanup()
    ctr.created.clear()
    wrapper.unlink()


def test_runtime_found_on_shim_path(ctr, path_runc):
    result = ctr.run("sh", "-c", "echo via-path; exit 3", runc_binary=False)
    assert (result.returncode, result.stdout) == (3, "via-path\n"), result.stderr
    container_id = ctr.start("sleep", "1000", runc_binary=False)
    assert ctr.ctr("task", "pause", container_id).returncode == 0
    assert ctr.status(container_id) == "PAUSED"
    assert ctr.ctr("task", "resume", container_id).returncode == 0
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    ctr.wait_status(container_id, "STOPPED")
    assert ctr.delete_task(container_id) == 137
    verbs = [line.split()[1:] for line in path_runc.read_text().splitlines()]
    runtimes = {line.split()[0] for line in path_runc.read_text().splitlines()}
    assert runtimes == {ctr.runtime.path}
    for verb in ("create", "start", "pause", "resume", "kill", "delete"):
        assert any(verb in call and container_id in call for call in verbs), (verb, verbs)


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def json_stream(text: str) -> list[dict]:
    """Decode concatenated JSON objects (what Go's json.Decoder accepts); fail on anything else."""
    decoder, entries, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return entries
        entry, pos = decoder.raw_decode(text, pos)
        entries.append(entry)


def _exactly(items, count: int):
    return items if len(items) == count else None


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in tasks.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_create_with_limits_and_read_only_rootfs(ctr):
    container_id = ctr.new_id()
    ctr.created.append(container_id)
    script = f"touch /new-file 2> /dev/null || echo read-only > /tmp/result; {LOOP}"
    argv = ctr.run_argv(container_id, "sh", "-c", script, rm=False, detach=True,
                        flags=("--memory-limit", str(40 << 20), "--cpus", "0.5",
                               "--cpu-shares", "300", "--read-only",
                               "--mount", "type=tmpfs,destination=/tmp,options=rw"))
    env.run(argv)
    ctr.wait_status(container_id, "RUNNING")
    pid = ctr.pid(container_id)
    result = Path(f"/proc/{pid}/root/tmp/result")
    env.wait_for(lambda: result.exists() and result.read_text(), what="the container's check")
    assert result.read_text() == "read-only\n"
    files = {("memory", "memory.limit_in_bytes"): str(40 << 20),
             ("cpu", "cpu.shares"): "300", ("cpu", "cpu.cfs_quota_us"): "50000",
             ("cpu", "cpu.cfs_period_us"): "100000"}
    for (controller, name), value in files.items():
        assert cgroup_file(ctr.daemon, controller, container_id, name).read_text().strip() \
            == value, name


def test_host_pid_namespace_kill_all_after_init_exits(ctr):
    # sharing the host PID namespace, the shim runs `kill --all <id> 9` when the init exits:
    # the init's background child must not survive `ctr run`
    host_pid_ns = f"pid:/proc/{os.getpid()}/ns/pid"  # /proc/1/ns is not readable on this VM
    result = ctr.run("sh", "-c", "sleep 1003 & echo $!", flags=("--with-ns", host_pid_ns))
    assert result.returncode == 0, result.stderr
    child = int(result.stdout.strip())
    env.wait_for(lambda: not _alive(child), timeout=10, what=f"pid {child} to be killed")


def test_tty_window_size(ctr):
    container_id = ctr.new_id()
    ctr.created.append(container_id)
    argv = ctr.run_argv(container_id, "sh", "-c", WAIT_FOR_SIZE, flags=("-t",))
    result = run_on_pty(argv, rows=33, cols=101)
    assert result.returncode == 0, result
    assert "size 33 101" in result.output


def test_containerd_logs_no_error_for_the_container(ctr):
    ok = ctr.run("true")
    assert ok.returncode == 0, ok.stderr
    container_id = ctr.start("sleep", "1000")
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    ctr.wait_status(container_id, "STOPPED")
    assert ctr.delete_task(container_id) == 137
    assert ctr.ctr("container", "delete", container_id).returncode == 0
    log = ctr.daemon.log_path.read_text().splitlines()
    for name in ctr.created:
        errors = [line for line in log if name in line and "level=error" in line]
        assert not errors, errors


def test_no_pivot_uses_the_runtime_on_path(ctr, path_runc):
    # --no-pivot replaces the runtime options, so the shim runs `runc` from its PATH
    result = ctr.run("sh", "-c", "exit 5", flags=("--no-pivot",))
    assert result.returncode == 5, result.stderr
    creates = [line for line in path_runc.read_text().splitlines() if " create " in line]
    assert creates and "--no-pivot" in creates[-1].split(), creates
    assert creates[-1].split()[0] == ctr.runtime.path


def test_runc_root_option(ctr, tmp_path):
    root = tmp_path / "runtime-root"
    container_id = ctr.new_id()
    ctr.created.append(container_id)
    env.run(ctr.run_argv(container_id, "sleep", "1000", rm=False, detach=True,
                         flags=("--runc-root", str(root))))
    ctr.wait_status(container_id, "RUNNING")
    state_dir = root / ctr.daemon.namespace / container_id  # the shim adds the namespace
    assert state_dir.is_dir()
    assert not (ctr.daemon.runtime_root / container_id).exists()
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    ctr.wait_status(container_id, "STOPPED")
    assert ctr.delete_task(container_id) == 137
    assert not state_dir.exists()


def test_sigkill_stops_a_paused_task(ctr):
    # runc thaws a paused container after sending it SIGKILL: it stops without a resume
    container_id = ctr.start("sleep", "1000")
    assert ctr.ctr("task", "pause", container_id).returncode == 0
    assert ctr.status(container_id) == "PAUSED"
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    env.wait_for(lambda: ctr.status(container_id) == "STOPPED", timeout=10,
                 what="the paused task to stop after SIGKILL")
    assert ctr.delete_task(container_id) == 137


def test_paused_task_ps_update_and_refused_exec(ctr):
    container_id = ctr.start("sleep", "1000")
    init_pid = ctr.pid(container_id)
    assert ctr.ctr("task", "pause", container_id).returncode == 0
    listed = ctr.ctr("task", "ps", container_id)
    assert listed.returncode == 0, listed.stderr
    assert str(init_pid) in listed.stdout.split()
    update_task(ctr.daemon.address, ctr.daemon.namespace, container_id,
                {"memory": {"limit": 96 << 20}})
    limit = cgroup_file(ctr.daemon, "memory", container_id, "memory.limit_in_bytes")
    assert int(limit.read_text()) == 96 << 20
    assert ctr.status(container_id) == "PAUSED"
    refused = ctr.ctr("task", "exec", "--exec-id", "frozen", container_id, "true", timeout=30)
    assert refused.returncode != 0
    assert "paused" in refused.stderr, refused.stderr
    assert ctr.ctr("task", "resume", container_id).returncode == 0
    assert ctr.status(container_id) == "RUNNING"
