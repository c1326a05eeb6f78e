"""Containers through pyengined and containerd's shim: run, exit codes, logs, stop, kill, rm,
ps, inspect, names, rmi conflicts, runtimes (pyrunc of this checkout, runc and crun)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine, crun_binary
from engine_harness import env

pytestmark = [pytest.mark.root]


def _gone(pid: int) -> bool:
    """Exited, or a zombie its parent has yet to reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _hybrid_cgroups() -> bool:
    """v1 controllers with a cgroup2 hierarchy beside them (at /sys/fs/cgroup/unified)."""
    return os.path.ismount("/sys/fs/cgroup/unified")


@pytest.fixture(scope="module")
def crun(tmp_path_factory: pytest.TempPathFactory) -> str:
    """crun as the engine can run it here (ctr_harness.crun_binary)."""
    return crun_binary(tmp_path_factory.mktemp("crun"))


def _runtime_flags(runtime: str, request: pytest.FixtureRequest) -> list[str]:
    if not runtime:
        return []
    if runtime == "crun":
        return ["--runtime", request.getfixturevalue("crun")]
    return ["--runtime", runtime]


def test_crun_as_is_on_a_hybrid_host_fails_clearly_and_leaves_nothing(
        engine: ContainerEngine) -> None:
    """Where crun refuses the host's cgroup layout, the engine says crun's reason (125) and
    keeps nothing of the failed container; elsewhere crun simply runs."""
    before = set(engine.ids())
    result = engine.pyctl("run", "--rm", "--runtime", "crun", "busybox", "true")
    if _hybrid_cgroups():
        assert result.returncode == 125
        assert b"hybrid mode not supported" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
    assert set(engine.ids()) == before


def _inspect(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


@pytest.mark.parametrize("runtime", ["", "runc", "crun"])
def test_run_rm_prints_the_output_and_leaves_nothing(engine: ContainerEngine, runtime: str,
                                                     request: pytest.FixtureRequest) -> None:
    flags = _runtime_flags(runtime, request)
    result = engine.pyctl("run", "--rm", *flags, "--name", f"echo-{runtime or 'pyrunc'}",
                          "busybox", "echo", "hello", "world")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"hello world\n", b"")
    assert f"echo-{runtime or 'pyrunc'}" not in engine.out("ps", "-a")
    assert not any((engine.exec_root / "containers").iterdir())


def test_exit_status_and_streams_kept_apart(engine: ContainerEngine) -> None:
    result = engine.pyctl("run", "--rm", "busybox", "sh", "-c",
                          "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, b"out\n", b"err\n")


def test_missing_executable_is_127_and_leaves_nothing(engine: ContainerEngine) -> None:
    result = engine.pyctl("run", "--rm", "--name", "missing", "busybox", "no-such-command")
    assert result.returncode == 127, result.stderr
    assert b"no-such-command" in result.stderr
    assert "missing" not in engine.out("ps", "-a")


def test_unknown_image_is_pulled_and_a_failed_pull_is_125(engine: ContainerEngine) -> None:
    # the daemon's own network namespace: nothing answers there
    result = engine.pyctl("run", "--rm", "127.0.0.1:1/no-such-image:1", "true")
    assert result.returncode == 125
    assert result.stderr.startswith(
        b"Unable to find image '127.0.0.1:1/no-such-image:1' locally\n")
    assert b"Error response from daemon" in result.stderr
    assert engine.out("ps", "-aq") == ""


def test_create_options_reach_the_process(engine: ContainerEngine, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# docker's format\nB=from-file\nA=overridden\n")
    result = engine.pyctl(
        "run", "--rm", "--env-file", str(env_file), "-e", "A=1", "-w", "/tmp", "-u", "1000",
        "-h", "myhost", "--read-only",
        "busybox", "sh", "-c",
        "echo $A $B $(pwd) $(id -u) $(hostname) $(cat /sys/class/net/lo/flags) "
        "$(ls /sys/class/net); touch /x")
    # own network namespace on the default bridge: lo up (IFF_UP|IFF_LOOPBACK) and eth0; the
    # root is read-only
    assert result.stdout == b"1 from-file /tmp 1000 myhost 0x9 eth0 lo\n"
    assert b"Read-only file system" in result.stderr
    assert result.returncode == 1


def test_detached_logs_follow_and_the_stop_signal(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "--name", "trapper", "--stop-signal", "USR1", "busybox",
                     "sh", "-c", "trap 'echo got USR1; exit 7' USR1; echo started; "
                     "while :; do sleep 0.1; done").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    run_env = env() | {"PYENGINE_HOST": engine.host}
    follower = subprocess.Popen([sys.executable, "-m", "pyengine.cli", "logs", "-f", "trapper"],
                                env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == b"started\n"
        engine.out("stop", "trapper")
        out, _ = follower.communicate(timeout=120)  # the follow ends with the container
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert out == b"got USR1\n"
    state = _inspect(engine, "trapper")["State"]
    assert (state["Status"], state["Running"], state["ExitCode"], state["Pid"]) == (
        "exited", False, 7, 0)
    assert engine.out("wait", "trapper") == "7\n"
    stamped = engine.out("logs", "-t", "--tail", "1", "trapper")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z got USR1\n", stamped)
    engine.out("rm", "trapper")


def test_stop_kills_after_the_timeout(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "stubborn", "busybox", "sh", "-c",
               "trap '' TERM; while :; do sleep 0.1; done")
    engine.out("stop", "-t", "1", "stubborn")
    assert _inspect(engine, "stubborn")["State"]["ExitCode"] == 137
    engine.out("rm", "stubborn")


def test_kill_with_a_signal_and_with_kill(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "killme", "busybox", "sh", "-c",
               "trap 'exit 5' HUP; while :; do sleep 0.1; done")
    engine.out("kill", "-s", "HUP", "killme")
    assert engine.out("wait", "killme") == "5\n"
    refused = engine.pyctl("kill", "killme")
    assert refused.returncode == 1 and b"is not running" in refused.stderr
    engine.out("start", "killme")
    assert _inspect(engine, "killme")["State"]["Running"] is True
    engine.out("kill", "killme")
    assert engine.out("wait", "killme") == "137\n"
    engine.out("rm", "killme")


def test_rm_of_a_running_container_needs_force(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "--name", "busy", "busybox", "sleep", "1000").strip()
    doc = _inspect(engine, "busy")
    pid = doc["State"]["Pid"]
    assert pid > 0 and os.path.exists(f"/proc/{pid}")
    refused = engine.pyctl("rm", "busy")
    assert refused.returncode == 1 and b"You cannot remove a running container" in \
        refused.stderr
    engine.out("rm", "-f", "busy")
    assert cid not in engine.out("ps", "-aq", "--no-trunc")
    assert not (engine.exec_root / "containers" / cid).exists()
    assert not (engine.data_root / "containers" / cid).exists()
    assert _gone(pid)


def test_ps_inspect_names_and_prefixes(engine: ContainerEngine) -> None:
    cid = engine.out("create", "--name", "named", "-l", "team=a", "busybox", "echo",
                     "hi").strip()
    taken = engine.pyctl("create", "--name", "named", "busybox")
    assert taken.returncode == 1
    assert b'The container name "/named" is already in use' in taken.stderr
    unnamed = engine.out("create", "busybox").strip()
    doc = _inspect(engine, cid[:10])  # a unique prefix
    assert (doc["Id"], doc["Name"], doc["State"]["Status"], doc["Config"]["Image"]) == (
        cid, "/named", "created", "busybox")
    assert doc["Config"]["Labels"] == {"team": "a"}
    assert doc["Config"]["Cmd"] == ["echo", "hi"] and doc["Path"] == "echo"
    assert doc["Image"].startswith("sha256:")
    generated = _inspect(engine, unnamed)["Name"].lstrip("/")
    assert re.fullmatch(r"[a-z]+_[a-z]+\d?", generated)
    assert engine.out("ps").count("\n") == 1  # only the header: nothing is running
    listed = engine.out("ps", "-a", "--format", "{{.Names}} {{.Status}}").splitlines()
    assert "named Created" in listed and f"{generated} Created" in listed
    assert engine.out("ps", "-aq", "-f", "name=named") == cid[:12] + "\n"
    assert engine.out("ps", "-lq", "--no-trunc") == unnamed + "\n"  # the latest created
    assert engine.out("ps", "-n", "2", "-q", "--no-trunc").split() == [unnamed, cid]
    assert engine.out("ps", "-aq", "--no-trunc", "-f", "label=team=a") == cid + "\n"
    assert engine.out("inspect", "-f", "{{.State.ExitCode}} {{.NetworkSettings.IPAddress}}",
                      "named") == "0 \n"
    engine.out("start", "named")
    assert engine.out("wait", "named") == "0\n"
    assert engine.out("logs", "named") == "hi\n"
    engine.out("rm", "named", unnamed)


def test_rmi_conflicts_with_a_container_using_the_image(engine: ContainerEngine) -> None:
    image_id = _inspect(engine, engine.out("create", "--name", "user", "busybox",
                                           "sleep", "1000").strip())["Image"]
    short = image_id.split(":")[1][:12]
    by_tag = engine.pyctl("rmi", "busybox")
    assert by_tag.returncode == 1
    assert b"container " in by_tag.stderr and b"is using its referenced image" in by_tag.stderr
    stopped = engine.pyctl("rmi", short)
    assert f"unable to delete {short} (must be forced) - image is being used by stopped " \
        "container".encode() in stopped.stderr
    engine.out("start", "user")
    running = engine.pyctl("rmi", "-f", short)
    assert f"unable to delete {short} (cannot be forced) - image is being used by running " \
        "container".encode() in running.stderr
    engine.out("rm", "-f", "user")
    assert engine.out("images", "-q") == short + "\n"


def test_lifecycle_events_reach_the_bus(engine: ContainerEngine) -> None:
    from pyengine.api import system_pb2, system_pb2_grpc

    with engine.channel() as channel:
        events = system_pb2_grpc.SystemServiceStub(channel).Events(
            system_pb2.EventsRequest(filters=["type=container"]), timeout=600)
        events.initial_metadata()  # subscribed: every later event reaches this stream
        result = engine.pyctl("run", "--rm", "--name", "evented", "busybox", "sh", "-c",
                              "exit 2")
        assert result.returncode == 2
        seen = []
        for event in events:
            seen.append((event.action, event.attributes["name"]))
            if event.action == "destroy":
                break
        events.cancel()
    cid = event.id
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert seen == [("create", "evented"), ("attach", "evented"), ("start", "evented"),
                    ("die", "evented"),
                    ("destroy", "evented")]
    assert event.attributes["image"] == "busybox"


@pytest.mark.parametrize("runtime", ["", "runc", "crun"])
def test_limits_reach_the_containers_cgroup(engine: ContainerEngine, runtime: str,
                                            request: pytest.FixtureRequest) -> None:
    flags = _runtime_flags(runtime, request)
    cid = engine.out("run", "-d", *flags, "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
                     "busybox", "sleep", "1000").strip()
    try:
        pid = _inspect(engine, cid)["State"]["Pid"]
        with open(f"/proc/{pid}/cgroup") as handle:
            paths = dict(line.strip().split(":", 2)[1:] for line in handle)
        for key in list(paths):  # "cpu,cpuacct" -> also "cpu"
            for name in key.split(","):
                paths.setdefault(name, paths[key])
        root = "/sys/fs/cgroup"
        if "memory" not in paths:  # unified (cgroup v2)
            base = f"{root}{paths['']}"
            memory, pids, cpu = (f"{base}/memory.max", f"{base}/pids.max", f"{base}/cpu.max")
            expected = ["67108864", "50", "50000 100000"]
        else:  # v1 controllers (this host is hybrid)
            memory = f"{root}/memory{paths['memory']}/memory.limit_in_bytes"
            pids = f"{root}/pids{paths['pids']}/pids.max"
            cpu = f"{root}/cpu{paths['cpu']}/cpu.cfs_quota_us"
            expected = ["67108864", "50", "50000"]
        got = [Path(path).read_text().strip() for path in (memory, pids, cpu)]
        assert got == expected
        assert cid in paths.get("memory", paths.get("", ""))
    finally:
        engine.out("rm", "-f", cid)


def test_logs_rotation_keeps_the_newest_entries(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "--log-opt", "max-size=300", "--log-opt", "max-file=2",
                     "busybox", "sh", "-c", "for i in $(seq 1 40); do echo line $i; done"
                     ).strip()
    try:
        assert engine.out("wait", cid) == "0\n"
        logs = sorted(p.name for p in (engine.data_root / "containers" / cid).iterdir())
        assert logs == [f"{cid}-json.log", f"{cid}-json.log.1"]
        for path in (engine.data_root / "containers" / cid).iterdir():
            assert path.stat().st_size <= 300
        lines = engine.out("logs", cid).splitlines()
        assert lines and lines[-1] == "line 40"  # only the newest entries were kept
        assert [int(x.split()[1]) for x in lines] == list(range(41 - len(lines), 41))
    finally:
        engine.pyctl("rm", "-f", cid)


def test_logs_tail_since_until_and_both_streams(engine: ContainerEngine) -> None:
    # No rotation here: the two streams are copied side by side, so which of them reaches the
    # log first is the scheduler's choice, and a rotation could keep either.
    cid = engine.out("run", "-d", "busybox", "sh", "-c",
                     "for i in $(seq 1 40); do echo line $i; done; echo done >&2").strip()
    try:
        assert engine.out("wait", cid) == "0\n"
        result = engine.pyctl("logs", cid)
        assert result.stdout.decode().splitlines() == [f"line {i}" for i in range(1, 41)]
        assert result.stderr == b"done\n"
        tail = engine.pyctl("logs", "--tail", "2", cid)  # the last two of both streams
        assert b"line 40\n" in tail.stdout + tail.stderr
        assert len((tail.stdout + tail.stderr).splitlines()) == 2
        # --since/--until by the stamps -t shows (lines read together share a stamp)
        stamped = [line.split(" ", 1) for line in engine.out("logs", "-t", cid).splitlines()]
        middle = stamped[len(stamped) // 2][0]
        since = engine.out("logs", "--since", middle, cid).splitlines()
        assert since == [text for stamp, text in stamped if stamp >= middle]
        until = engine.out("logs", "--until", middle, cid).splitlines()
        assert until == [text for stamp, text in stamped if stamp <= middle]
        assert engine.pyctl("logs", "--since", "0", "--tail", "0", cid).stdout == b""
    finally:
        engine.pyctl("rm", "-f", cid)


@pytest.mark.parametrize("runtime", ["", "runc", "crun"])
def test_exec_in_a_running_container(engine: ContainerEngine, runtime: str,
                                     request: pytest.FixtureRequest) -> None:
    flags = _runtime_flags(runtime, request)
    cid = engine.out("run", "-d", *flags, "-e", "BASE=1", "busybox", "sleep", "1000").strip()
    try:
        result = engine.pyctl("exec", "-e", "X=5", "-w", "/tmp", "-u", "1000", cid, "sh", "-c",
                              "echo $BASE $X $(pwd) $(id -u); echo e >&2; exit 6")
        assert (result.returncode, result.stdout, result.stderr) == (6, b"1 5 /tmp 1000\n",
                                                                      b"e\n")
        missing = engine.pyctl("exec", cid, "no-such-command")
        # docker exec: 126 for any start failure, the reason on stdout
        assert missing.returncode == 126 and b"no-such-command" in missing.stdout
        # execs leave nothing in the bundle and the container runs on
        assert not [p for p in (engine.exec_root / "containers" / cid).iterdir()
                    if p.name.startswith("exec-")]
        assert _inspect(engine, cid)["State"]["Running"] is True
        engine.out("stop", "-t", "0", cid)
        stopped = engine.pyctl("exec", cid, "true")
        assert stopped.returncode == 1 and b"is not running" in stopped.stderr
    finally:
        engine.out("rm", "-f", cid)


def test_restart_rename_prune_and_the_container_group(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "--name", "again", "busybox", "sh", "-c",
                     "echo run; while :; do sleep 0.1; done").strip()
    first = _inspect(engine, "again")["State"]
    engine.out("restart", "-t", "1", "again")
    second = _inspect(engine, "again")["State"]
    assert second["Running"] is True and second["Pid"] != first["Pid"]
    engine.out("rename", "again", "renamed")
    assert _inspect(engine, cid)["Name"] == "/renamed"
    other = engine.out("container", "create", "--name", "other", "busybox").strip()
    taken = engine.pyctl("rename", "other", "renamed")
    assert taken.returncode == 1 and b"is already in use" in taken.stderr
    listed = engine.out("container", "ls", "-a", "--format", "{{.Names}} {{.State}}")
    assert sorted(listed.splitlines()) == ["other created", "renamed running"]
    assert json.loads(engine.out("container", "inspect", "renamed"))[0]["Id"] == cid
    missing = engine.pyctl("container", "inspect", "busybox")  # an image, not a container
    assert missing.returncode == 1 and b"No such container: busybox" in missing.stderr
    pruned = engine.out("container", "prune", "-f")
    assert pruned == f"Deleted Containers:\n{other}\n\nTotal reclaimed space: 0B\n"
    engine.out("container", "stop", "-t", "1", "renamed")
    engine.out("container", "rm", "renamed")
    assert engine.out("ps", "-aq") == ""


@pytest.mark.parametrize("runtime", ["", "runc", "crun"])
def test_run_interactive_feeds_stdin_and_closes_it(engine: ContainerEngine, runtime: str,
                                                   request: pytest.FixtureRequest) -> None:
    flags = _runtime_flags(runtime, request)
    result = engine.pyctl("run", "-i", "--rm", *flags, "busybox", "sh", "-c",
                          "wc -l; cat; echo after-eof", input=b"a\nb\nc\n")
    assert (result.returncode, result.stdout) == (0, b"3\nafter-eof\n"), result.stderr
    empty = engine.pyctl("run", "-i", "--rm", "busybox", "cat", input=b"")
    assert (empty.returncode, empty.stdout) == (0, b"")
    # without -i the container's stdin is empty whatever pyctl is given
    closed = engine.pyctl("run", "--rm", "busybox", "cat", input=b"ignored\n")
    assert (closed.returncode, closed.stdout) == (0, b"")
