"""pause/unpause, top, stats and update through the shim's Task API, under containerd's Go shim
(the engine's default) and ours (containerd-shim-pyrunc-v2 of this checkout, through the
engine's shim-binary option): real containers, the kernel's freezer and cgroup files."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ctr_harness import SHIMS, ContainerEngine, shim_config

pytestmark = [pytest.mark.root]

LONG = 60.0  # a bound on something that happens, never a measurement
COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done"


@pytest.fixture(scope="module", params=SHIMS)
def engine(request: pytest.FixtureRequest, make_engine: Callable[..., ContainerEngine]
           ) -> ContainerEngine:
    """One engine per shim (named `engine` so conftest's clean-up after each test applies)."""
    return make_engine(config=shim_config(request.param,
                                          request.getfixturevalue("pyrunc_shim")))


def _inspect(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


def _run(engine: ContainerEngine, name: str, *args: str) -> tuple[str, int]:
    """A detached container's id and its init's pid."""
    cid = engine.out("run", "-d", "--name", name, *args).strip()
    return cid, _inspect(engine, cid)["State"]["Pid"]


def _cgroup_file(pid: int, controller: str, v1_name: str, v2_name: str) -> Path:
    """A cgroup file of `pid`: the v1 controller's, else the unified hierarchy's."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, controllers, path in lines:
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup", controller, path.lstrip("/"), v1_name)
    unified = next(path for hid, _, path in lines if hid == "0")
    return Path("/sys/fs/cgroup", unified.lstrip("/"), v2_name)


def _frozen(pid: int) -> bool:
    path = _cgroup_file(pid, "freezer", "freezer.state", "cgroup.events")
    text = path.read_text()
    return text.strip() == "FROZEN" if path.name == "freezer.state" else "frozen 1" in text


def _counter(pid: int) -> int:
    text = Path(f"/proc/{pid}/root/tmp/n").read_text().strip()
    return int(text) if text else 0


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + LONG
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_pause_freezes_and_unpause_resumes(engine: ContainerEngine) -> None:
    from pyengine.api import system_pb2, system_pb2_grpc

    channel = engine.channel()
    stream = system_pb2_grpc.SystemServiceStub(channel).Events(
        system_pb2.EventsRequest(filters=["type=container", "event=pause", "event=unpause"]),
        timeout=LONG * 4)
    stream.initial_metadata()  # subscribed
    try:
        cid, pid = _run(engine, "counter", "busybox", "sh", "-c", COUNTER)
        _until(lambda: os.path.exists(f"/proc/{pid}/root/tmp/n") and _counter(pid) > 0)
        assert engine.out("pause", "counter") == "counter\n"
        assert _frozen(pid)
        frozen_at = _counter(pid)
        time.sleep(0.5)  # a running counter would move 10 times meanwhile
        assert _counter(pid) == frozen_at
        line = next(li for li in engine.out("ps").splitlines() if "counter" in li)
        assert "(Paused)" in line and line.split()[0] == cid[:12]
        assert engine.out("ps", "-q", "--filter", "status=paused").split() == [cid[:12]]
        state = _inspect(engine, "counter")["State"]
        assert (state["Status"], state["Paused"], state["Running"]) == ("paused", True, True)

        assert engine.out("container", "unpause", "counter") == "counter\n"
        _until(lambda: _counter(pid) > frozen_at)
        assert not _frozen(pid)
        state = _inspect(engine, "counter")["State"]
        assert (state["Status"], state["Paused"]) == ("running", False)
        assert "(Paused)" not in engine.out("ps")
        assert [(e.action, e.id) for e in (next(stream), next(stream))] == [
            ("pause", cid), ("unpause", cid)]
    finally:
        stream.cancel()
        channel.close()


def test_a_paused_container_stays_paused_across_a_daemon_restart(
        engine: ContainerEngine) -> None:
    _, pid = _run(engine, "sleeper", "busybox", "sh", "-c", COUNTER)
    _until(lambda: os.path.exists(f"/proc/{pid}/root/tmp/n") and _counter(pid) > 0)
    engine.out("pause", "sleeper")
    assert engine.stop() == 0
    engine.start()
    state = _inspect(engine, "sleeper")["State"]
    assert (state["Status"], state["Pid"]) == ("paused", pid) and _frozen(pid)
    frozen_at = _counter(pid)
    engine.out("unpause", "sleeper")
    _until(lambda: _counter(pid) > frozen_at)
    assert _inspect(engine, "sleeper")["State"]["Status"] == "running"


def test_pause_and_unpause_refuse_as_docker_does(engine: ContainerEngine) -> None:
    cid, _ = _run(engine, "twice", "busybox", "sleep", "1000")
    engine.out("pause", "twice")
    again = engine.pyctl("pause", "twice")
    assert again.returncode == 1
    assert again.stderr.decode() == \
        f"Error response from daemon: Container {cid} is already paused\n"
    assert engine.pyctl("exec", "twice", "true").returncode != 0
    engine.out("unpause", "twice")
    not_paused = engine.pyctl("unpause", "twice")
    assert (not_paused.returncode, not_paused.stderr.decode()) == \
        (1, f"Error response from daemon: Container {cid} is not paused\n")


@pytest.mark.parametrize("verb", ["stop", "kill", "rm"])
def test_a_paused_container_stops_kills_and_goes(engine: ContainerEngine, verb: str) -> None:
    cid, _ = _run(engine, f"paused-{verb}", "busybox", "sleep", "1000")
    engine.out("pause", cid)
    args = {"stop": ["stop", "-t", "1"], "kill": ["kill"], "rm": ["rm", "-f"]}[verb]
    assert engine.out(*args, cid) == f"{cid}\n"
    if verb == "rm":
        assert cid[:12] not in engine.out("ps", "-aq")
        return
    state = _inspect(engine, cid)["State"]
    assert (state["Status"], state["Paused"], state["ExitCode"]) == ("exited", False, 137)
    # and it starts again, running and not paused
    engine.out("start", cid)
    state = _inspect(engine, cid)["State"]
    assert (state["Status"], state["Paused"]) == ("running", False)


def test_verbs_of_a_stopped_container_refuse(engine: ContainerEngine) -> None:
    cid = engine.out("create", "--name", "idle", "busybox", "true").strip()
    for verb, message in (("pause", "is not running"), ("unpause", "is not paused"),
                          ("top", "is not running")):
        result = engine.pyctl(verb, "idle")
        assert result.returncode == 1, verb
        assert result.stderr.decode() == \
            f"Error response from daemon: Container {cid} {message}\n", verb
    missing = engine.pyctl("top", "no-such-container")
    assert missing.returncode == 1 and b"No such container: no-such-container" in \
        missing.stderr


def test_top_shows_the_containers_processes(engine: ContainerEngine) -> None:
    _, pid = _run(engine, "topped", "busybox", "sh", "-c", "sleep 4242 & wait")
    _until(lambda: "sleep 4242" in engine.out("top", "topped"))
    lines = engine.out("top", "topped").splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    pids = {line.split()[1] for line in lines[1:]}
    assert str(pid) in pids and len(pids) == 2  # sh and sleep, nothing of the host
    sleeper = next(line for line in lines[1:] if line.endswith("sleep 4242"))
    assert sleeper.split()[2] == str(pid)  # its parent is the container's init
    aux = engine.out("top", "topped", "aux").splitlines()
    assert aux[0].split()[:3] == ["USER", "PID", "%CPU"] and len(aux) == 3
    custom = engine.out("top", "topped", "-o", "pid,comm").splitlines()
    assert custom[0].split() == ["PID", "COMMAND"]
    assert sorted(line.split()[1] for line in custom[1:]) == ["sh", "sleep"]


def _mib(text: str) -> float:
    units = {"B": 1 / (1 << 20), "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}
    for unit in ("KiB", "MiB", "GiB", "B"):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * units[unit]
    raise AssertionError(text)


def test_stats_no_stream_shows_usage_and_the_limit(engine: ContainerEngine) -> None:
    # --network none: NET I/O counts every interface but loopback, and on a bridge the
    # kernel's own IPv6 neighbour discovery already moves a few bytes
    cid, _ = _run(engine, "measured", "-m", "64m", "--network", "none", "busybox", "sh", "-c",
                  "sleep 1000 & sleep 1000 & wait")
    _, idle_pid = _run(engine, "unlimited", "busybox", "sleep", "1000")
    table = engine.out("stats", "--no-stream").splitlines()
    assert re.split(r"\s{2,}", table[0]) == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
                                             "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
    rows = {line.split()[1]: line.split() for line in table[1:]}
    assert set(rows) == {"measured", "unlimited"}
    row = rows["measured"]
    assert row[0] == cid[:12] and row[2].endswith("%")
    usage, limit = row[3], row[5]
    assert _mib(usage) > 0 and limit == "64MiB"
    assert row[-1] == "3"  # sh and two sleeps
    assert row[7:10] == ["0B", "/", "0B"]  # no network but loopback
    figures = engine.out("stats", "--no-stream", "--format",
                         "{{.Name}} {{.MemUsage}} {{.PIDs}}", "measured").split()
    assert figures[0] == "measured" and figures[3] == "64MiB" and figures[4] == "3"
    # without a limit docker shows the machine's memory
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shown = engine.out("stats", "--no-stream", "--format", "{{.MemUsage}}",
                       "unlimited").split(" / ")[1].strip()
    assert abs(_mib(shown) - machine / (1 << 20)) < 1
    assert idle_pid > 0


def test_stats_cpu_percent_of_a_busy_container(engine: ContainerEngine) -> None:
    _run(engine, "busy", "busybox", "sh", "-c", "while :; do :; done")
    _run(engine, "idle", "busybox", "sleep", "1000")
    lines = engine.out("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}", "busy",
                       "idle").splitlines()
    figures = {name: float(pct.rstrip("%")) for name, pct in (li.split() for li in lines)}
    # a spinning shell had CPU time between the two samples; a sleeping one next to none
    assert figures["busy"] > 0 and figures["busy"] > figures["idle"]


def test_stats_streams_frames(engine: ContainerEngine) -> None:
    import subprocess
    import sys

    from engine_harness import env

    _run(engine, "streamed", "busybox", "sleep", "1000")
    run_env = dict(env(), PYENGINE_HOST=engine.host)
    proc = subprocess.Popen([sys.executable, "-m", "pyengine.cli", "stats", "streamed"],
                            env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        seen = b""
        while seen.count(b"\033[2J\033[H") < 3:  # the screen is redrawn for each frame
            chunk = proc.stdout.read1(4096)
            assert chunk, proc.stderr.read() if proc.stderr else b""
            seen += chunk
        assert b"streamed" in seen and b"CONTAINER ID" in seen
    finally:
        proc.kill()
        proc.wait()


def test_stats_of_an_unknown_container_is_an_error(engine: ContainerEngine) -> None:
    result = engine.pyctl("stats", "--no-stream", "no-such")
    assert result.returncode == 1 and b"No such container: no-such" in result.stderr


def test_update_changes_the_cgroup_now_and_for_later_starts(engine: ContainerEngine) -> None:
    cid, pid = _run(engine, "updated", "-m", "64m", "busybox", "sleep", "1000")
    memory = _cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
    pids = _cgroup_file(pid, "pids", "pids.max", "pids.max")
    assert int(memory.read_text()) == 64 << 20
    assert engine.out("update", "-m", "96m", "--pids-limit", "20", "--restart", "on-failure:2",
                      "updated") == "updated\n"
    assert int(memory.read_text()) == 96 << 20
    assert pids.read_text().strip() == "20"
    host = _inspect(engine, cid)["HostConfig"]
    assert (host["Memory"], host["PidsLimit"], host["RestartPolicy"]) == \
        (96 << 20, 20, {"Name": "on-failure", "MaximumRetryCount": 2})
    assert engine.out("stats", "--no-stream", "--format", "{{.MemUsage}}", cid).split(
        " / ")[1].strip() == "96MiB"
    # a stopped container: the record only, applied at the next start
    engine.out("stop", "-t", "0", cid)
    engine.out("update", "-m", "80m", "--cpus", "0.5", cid)
    engine.out("start", cid)
    pid = _inspect(engine, cid)["State"]["Pid"]
    memory = _cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
    assert int(memory.read_text()) == 80 << 20
    quota = _cgroup_file(pid, "cpu", "cpu.cfs_quota_us", "cpu.max")
    assert quota.read_text().split()[0] == "50000"
    assert _cgroup_file(pid, "pids", "pids.max", "pids.max").read_text().strip() == "20"
    # and a restart keeps it
    engine.out("restart", "-t", "0", cid)
    pid = _inspect(engine, cid)["State"]["Pid"]
    memory = _cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
    assert int(memory.read_text()) == 80 << 20


def test_update_refuses_as_docker_does(engine: ContainerEngine) -> None:
    _run(engine, "refused", "busybox", "sleep", "1000")
    none = engine.pyctl("update", "refused")
    assert none.returncode == 1 and b"provide one or more flags" in none.stderr
    small = engine.pyctl("update", "-m", "1m", "refused")
    assert small.returncode == 1
    assert small.stderr.decode() == \
        "Error response from daemon: Minimum memory limit allowed is 6MB\n"
    bad = engine.pyctl("update", "--cpu-shares", "many", "refused")
    assert bad.returncode == 125 and b'invalid argument "many"' in bad.stderr
    missing = engine.pyctl("update", "-m", "64m", "no-such")
    assert missing.returncode == 1 and b"No such container: no-such" in missing.stderr
