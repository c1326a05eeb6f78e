"""podman 4.3 (Debian) with ``--runtime`` pointing at runc or at pyrunc (installed as ``runc`` in a
directory of its own, so podman passes ``--log``): the same commands give the same results. Every
test runs twice, once per runtime; the test id says which."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import dropin_env as env
import pytest
from dropin_clients import LOOP, alive, cgroup_dir
from dropin_pty import WAIT_FOR_SIZE, run_on_pty

from tests.fixtures.procs import catches

pytestmark = pytest.mark.root


def test_run_rm_exit_codes(pod):
    ok = pod.run_rm(env.IMAGE, "sh", "-c", "echo out")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "out\n", "")  # runtime stays quiet
    failed = pod.run_rm(env.IMAGE, "sh", "-c", "echo err >&2; exit 3")
    assert failed.returncode == 3, failed.stderr
    assert "err" in failed.stderr
    listed = pod("ps", "-a", "--format", "{{.Names}}", check=True).stdout.split()
    assert not set(pod.names) & set(listed)


def test_run_interactive_stdin(pod):
    result = pod.run_rm("-i", env.IMAGE, "sh", "-c", "cat; echo end", input="data 1\ndata 2\n")
    assert (result.returncode, result.stdout) == (0, "data 1\ndata 2\nend\n"), result.stderr


def test_run_tty(pod):
    argv = pod.argv("run", "--rm", "-it", "--name", pod.name(), env.IMAGE, "sh", "-c",
                    'tty; echo ready; read x; echo "got:$x"; exit 4')
    result = run_on_pty(argv, env=pod.manager.env, reply_to=("ready", "hello\r"))
    assert result.returncode == 4, result
    assert "/dev/pts/0" in result.output
    assert "got:hello" in result.output


@pytest.mark.parametrize("command", ["no-such-command", "/no/such/file"])
def test_not_found_executable_exits_127(pod, command):
    result = pod.run_rm(env.IMAGE, command)
    assert result.returncode == 127, result.stderr
    assert ("executable file not found" in result.stderr
            or "no such file or directory" in result.stderr), result.stderr


def test_run_detached(pod):
    container_id = pod.start("sleep", "1000")
    assert len(container_id) == 64 and int(container_id, 16) >= 0
    info = pod.inspect(container_id)
    assert info["OCIRuntime"] == pod.runtime.path
    assert info["State"]["Status"] == "running"
    pid = info["State"]["Pid"]
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x001000\x00"
    # the runtime under test keeps the state, under its default root (podman passes no --root)
    assert (Path(pod.runtime.state_root) / container_id).is_dir()
    listed = pod("ps", "--format", "{{.ID}} {{.Status}}", check=True).stdout
    assert any(line.startswith(container_id[:12]) and "Up" in line
               for line in listed.splitlines())


def test_exec_exit_codes_and_stdin(pod):
    container_id = pod.start("sleep", "1000")
    plain = pod("exec", container_id, "sh", "-c", "echo in-exec; echo err >&2; exit 7")
    assert (plain.returncode, plain.stdout) == (7, "in-exec\n"), plain.stderr
    assert "err" in plain.stderr
    ok = pod("exec", "--env", "X=y", "--workdir", "/tmp", container_id, "sh", "-c",
             'echo "$X $(pwd)"')
    assert (ok.returncode, ok.stdout) == (0, "y /tmp\n"), ok.stderr
    user = pod("exec", "--user", "65534:65534", container_id, "sh", "-c",
               'echo "$(id -u):$(id -g)"; grep CapEff /proc/self/status')
    assert user.returncode == 0, user.stderr
    assert user.stdout.split() == ["65534:65534", "CapEff:", "0000000000000000"]
    piped = pod("exec", "-i", container_id, "sh", "-c", "cat; echo end", input="abc\n")
    assert (piped.returncode, piped.stdout) == (0, "abc\nend\n"), piped.stderr
    detached = pod("exec", "-d", container_id, "sh", "-c", "echo bg > /tmp/detached")
    assert detached.returncode == 0, detached.stderr
    env.wait_for(lambda: pod("exec", container_id, "cat", "/tmp/detached").stdout == "bg\n",
                 what="the detached exec to write its file")
    assert pod.status(container_id) == "running"


def test_exec_tty(pod):
    container_id = pod.start("sleep", "1000")
    argv = pod.argv("exec", "-it", container_id, "sh", "-c",
                    'tty; echo ready; read x; echo "got:$x"; exit 6')
    result = run_on_pty(argv, env=pod.manager.env, reply_to=("ready", "typed\r"))
    assert result.returncode == 6, result
    assert "/dev/pts/" in result.output
    assert "got:typed" in result.output


def test_exec_not_found(pod):
    container_id = pod.start("sleep", "1000")
    result = pod("exec", container_id, "no-such-command")
    assert result.returncode == 127, result.stderr
    assert "executable file not found" in result.stderr
    assert pod.status(container_id) == "running"


def test_stop_graceful(pod):
    container_id = pod.start("sh", "-c", f"trap 'exit 42' TERM; {LOOP}")
    pid = pod.inspect(container_id)["State"]["Pid"]
    env.wait_for(lambda: catches(pid, signal.SIGTERM), what="the TERM trap")  # else SIGKILL: 137
    result = pod("stop", "-t", "30", container_id)
    assert result.returncode == 0, result.stderr
    state = pod.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 42)


def test_stop_falls_back_to_sigkill(pod):
    # pid 1 without a TERM handler ignores SIGTERM: podman must send SIGKILL after 1 s
    container_id = pod.start("sleep", "1000")
    pid = pod.inspect(container_id)["State"]["Pid"]
    result = pod("stop", "-t", "1", container_id)
    assert result.returncode == 0, result.stderr
    state = pod.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    assert not alive(pid)


def test_kill_with_signal(pod):
    script = "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 43' TERM; echo ready; " + LOOP
    container_id = pod.start("sh", "-c", script)

    def logs() -> str:
        return pod("logs", container_id, check=True).stdout

    env.wait_for(lambda: "ready" in logs(), what="the traps to be set")
    result = pod("kill", "-s", "USR1", container_id)
    assert result.returncode == 0, result.stderr
    env.wait_for(lambda: "got-usr1" in logs(), what="SIGUSR1 to be handled")
    assert pod.status(container_id) == "running"
    result = pod("kill", "-s", "SIGTERM", container_id)
    assert result.returncode == 0, result.stderr
    waited = pod("wait", container_id, timeout=30)
    assert waited.stdout.strip() == "43", waited.stderr
    assert "got-term" in logs()


def test_pause_unpause(pod):
    container_id = pod.start("sh", "-c", LOOP)
    pid = pod.inspect(container_id)["State"]["Pid"]
    freezer = cgroup_dir(pid, "freezer") / "freezer.state"
    paused = pod("pause", container_id)
    assert paused.returncode == 0, paused.stderr
    assert pod.status(container_id) == "paused"
    assert freezer.read_text().strip() == "FROZEN"
    resumed = pod("unpause", container_id)
    assert resumed.returncode == 0, resumed.stderr
    assert pod.status(container_id) == "running"
    assert freezer.read_text().strip() == "THAWED"


def test_update_memory(pod):
    container_id = pod.start("sleep", "1000")
    pid = pod.inspect(container_id)["State"]["Pid"]
    result = pod("update", "--memory", "64m", container_id)
    assert result.returncode == 0, result.stderr
    limit = cgroup_dir(pid, "memory") / "memory.limit_in_bytes"
    assert int(limit.read_text()) == 64 << 20
    assert pod.status(container_id) == "running"


def test_rm_force(pod):
    container_id = pod.start("sleep", "1000")
    pid = pod.inspect(container_id)["State"]["Pid"]
    memory_cgroup = cgroup_dir(pid, "memory")
    state_dir = Path(pod.runtime.state_root) / container_id
    assert state_dir.is_dir()
    result = pod("rm", "-f", "-t", "1", container_id)  # sleep ignores SIGTERM: SIGKILL after 1 s
    assert result.returncode == 0, result.stderr
    listed = pod("ps", "-a", "--format", "{{.ID}}", "--no-trunc", check=True).stdout.split()
    assert container_id not in listed
    assert not alive(pid)
    assert not state_dir.exists()
    assert not memory_cgroup.exists()


@pytest.mark.parametrize("verb", ["run", "exec"])
def test_not_executable_exits_126(pod, verb):
    if verb == "run":
        result = pod.run_rm(env.IMAGE, "/etc/passwd")
    else:
        result = pod("exec", pod.start("sleep", "1000"), "/etc/passwd")
    assert result.returncode == 126, result.stderr
    assert "permission denied" in result.stderr.lower()


def test_run_user_workdir_hostname_and_limits(pod):
    container_id = pod.start(
        "sh", "-c", f'echo "$(id -u):$(id -g) $(pwd) $(hostname) $GREETING"; {LOOP}',
        flags=("--user", "65534:65534", "--workdir", "/tmp", "--hostname", "box",
               "--env", "GREETING=hi there", "--memory", "48m", "--pids-limit", "64",
               "--cpu-shares", "256"))
    env.wait_for(lambda: pod("logs", container_id).stdout, what="the container's output")
    assert pod("logs", container_id).stdout == "65534:65534 /tmp box hi there\n"
    pid = pod.inspect(container_id)["State"]["Pid"]
    assert int((cgroup_dir(pid, "memory") / "memory.limit_in_bytes").read_text()) == 48 << 20
    assert (cgroup_dir(pid, "pids") / "pids.max").read_text().strip() == "64"
    assert (cgroup_dir(pid, "cpu") / "cpu.shares").read_text().strip() == "256"


def test_restart_recreates_with_same_id(pod):
    container_id = pod.start("sh", "-c", f"trap 'exit 0' TERM; {LOOP}")
    first_pid = pod.inspect(container_id)["State"]["Pid"]
    result = pod("restart", "-t", "10", container_id)
    assert result.returncode == 0, result.stderr
    state = pod.inspect(container_id)["State"]
    assert state["Status"] == "running"
    assert state["Pid"] != first_pid and alive(state["Pid"]) and not alive(first_pid)
    assert pod("exec", container_id, "true").returncode == 0


def test_stop_with_host_pid_namespace_kills_all(pod):
    # without its own PID namespace podman stops with `kill --all`: the background sleep dies too
    container_id = pod.start("sh", "-c", "sleep 1001 & echo $!; wait", flags=("--pid", "host"))
    child = int(env.wait_for(lambda: pod("logs", container_id).stdout.strip(),
                             what="the child's pid"))
    assert alive(child)
    result = pod("stop", "-t", "10", container_id)
    assert result.returncode == 0, result.stderr
    assert pod.status(container_id) == "exited"
    env.wait_for(lambda: not alive(child), timeout=10, what=f"pid {child} to die")


def test_tty_window_size(pod):
    argv = pod.argv("run", "--rm", "-it", "--name", pod.name(), env.IMAGE, "sh", "-c",
                    WAIT_FOR_SIZE)
    result = run_on_pty(argv, env=pod.manager.env, rows=33, cols=101)
    assert result.returncode == 0, result
    assert "size 33 101" in result.output


def test_detached_exit_status_and_auto_remove(pod):
    # conmon must be the init's parent (subreaper) to report its status; --rm removes it after
    kept = pod.start("sh", "-c", "exit 5")
    waited = pod("wait", kept, timeout=30)
    assert waited.stdout.strip() == "5", waited.stderr
    assert pod.inspect(kept)["State"]["ExitCode"] == 5
    removed = pod.start("sh", "-c", "exit 6", flags=("--rm",))
    state_dir = Path(pod.runtime.state_root) / removed

    def gone() -> bool:
        listed = pod("ps", "-a", "--no-trunc", "--format", "{{.ID}}", check=True).stdout
        return removed not in listed.split() and not state_dir.exists()

    env.wait_for(gone, timeout=30, what="the --rm container and its runtime state to go")


def test_capabilities_and_security_options(pod):
    probe = "grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status"
    narrowed = pod.run_rm("--cap-drop", "all", "--cap-add", "NET_RAW", "--security-opt",
                          "no-new-privileges", env.IMAGE, "sh", "-c", probe)
    assert narrowed.returncode == 0, narrowed.stderr
    assert narrowed.stdout.split() == ["CapEff:", "0000000000002000", "CapBnd:",
                                       "0000000000002000", "NoNewPrivs:", "1", "Seccomp:", "2"]
    unconfined = pod.run_rm("--security-opt", "seccomp=unconfined", env.IMAGE, "sh", "-c",
                            probe)
    assert "Seccomp:\t0" in unconfined.stdout, unconfined.stderr


def test_preserve_fds(pod, tmp_path):
    extra = tmp_path / "extra"
    extra.write_text("from the caller's fd 3\n")

    def with_fd3(*args: str):
        """Run podman with ``extra`` open as its fd 3 (a shell opens it, then execs podman)."""
        return env.run(["sh", "-c", 'exec 3< "$0" && exec "$@"', str(extra), *pod.argv(*args)],
                       check=False, env=pod.manager.env)

    ran = with_fd3("run", "--rm", "--preserve-fds", "1", env.IMAGE, "cat", "/proc/self/fd/3")
    assert (ran.returncode, ran.stdout) == (0, "from the caller's fd 3\n"), ran.stderr
    container_id = pod.start("sleep", "1000")
    execd = with_fd3("exec", "--preserve-fds", "1", container_id, "cat", "/proc/self/fd/3")
    assert (execd.returncode, execd.stdout) == (0, "from the caller's fd 3\n"), execd.stderr
    # without --preserve-fds no caller fd beyond 2 reaches the container (3 is ls's own dir fd)
    listed = with_fd3("exec", container_id, "ls", "/proc/self/fd")
    assert sorted(listed.stdout.split()) == ["0", "1", "2", "3"], listed.stderr


def test_rm_force_paused(pod):
    container_id = pod.start("sleep", "1000")
    pid = pod.inspect(container_id)["State"]["Pid"]
    assert pod("pause", container_id).returncode == 0
    result = pod("rm", "-f", "-t", "0", container_id)
    assert result.returncode == 0, result.stderr
    assert not (Path(pod.runtime.state_root) / container_id).exists()
    env.wait_for(lambda: not alive(pid), timeout=10, what=f"pid {pid} to die")


def test_update_cpu_and_memory(pod):
    container_id = pod.start("sleep", "1000")
    pid = pod.inspect(container_id)["State"]["Pid"]
    result = pod("update", "--cpus", "0.5", "--cpu-shares", "333", "--memory", "80m",
                 container_id)
    assert result.returncode == 0, result.stderr
    cpu = cgroup_dir(pid, "cpu")
    assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
    assert (cpu / "cpu.shares").read_text().strip() == "333"
    assert int((cgroup_dir(pid, "memory") / "memory.limit_in_bytes").read_text()) == 80 << 20


def test_create_failure_log_is_one_json_object(pod):
    # podman json.Unmarshal()s the whole --log file as ONE {msg, level, time} object
    name = pod.name()
    result = pod("run", "--name", name, env.IMAGE, "no-such-command")
    assert result.returncode == 127, result.stderr
    container_id = pod.inspect(name)["Id"]
    oci_log = pod.manager.runroot / "overlay-containers" / container_id / "userdata" / "oci-log"
    entry = json.loads(oci_log.read_text())
    assert entry["level"] == "error"
    assert "executable file not found" in entry["msg"]
    assert entry["msg"] in result.stderr


def test_memory_limit_enforced_from_create(pod):
    # tail buffers one 64 MiB line: OOM-killed under a 24 MiB limit (bounded if the limit is
    # missing). conmon's OOMKilled flag is False here with both runtimes (hybrid cgroups).
    script = "head -c 67108864 /dev/zero | tail -n 1 > /dev/null"
    name = pod.name()
    result = pod("run", "--name", name, "--memory", "24m", "--memory-swap", "24m", env.IMAGE,
                 "sh", "-c", script, timeout=120)
    assert result.returncode == 137, result.stderr
    assert pod.inspect(name)["State"]["ExitCode"] == 137
