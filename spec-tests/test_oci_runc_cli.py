"""The rest of runc's command line that containerd and podman use (runc-cli-contract.md): exec
(process file, argument form, --detach/--pid-file, exit status), ps, pause/resume, update."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from spectest.bundle import PROBE, Container
from spectest.host import cgroup_dirs, freezer_state


@pytest.fixture
def running(make) -> Container:
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    assert ctr.start().returncode == 0
    ctr.wait_status("running")
    return ctr


def process_json(ctr: Container, **changes) -> dict:
    process = json.loads(json.dumps(ctr.config["process"]))
    process.update(changes)
    return process


def exec_detached(ctr: Container, process: dict, tmp: Path) -> tuple[int, dict]:
    """containerd's form: exec --process FILE --detach --pid-file P; the process is our child."""
    spec = tmp / "process.json"
    spec.write_text(json.dumps(process))
    pid_file = tmp / "exec.pid"
    with tempfile.TemporaryFile() as out:
        res = ctr.cmd("exec", "--process", str(spec), "--detach", "--pid-file", str(pid_file),
                      ctr.id, stdout=out)
        assert res.returncode == 0, res.stderr
        raw = pid_file.read_bytes()
        assert raw.isdigit(), f"pid file must hold only digits: {raw!r}"
        pid = int(raw)
        code = ctr.reap(pid, block=True)
        out.seek(0)
        data = out.read()
    assert code == 0, (code, data[:300])
    return pid, json.loads(data)


def test_exec_process_file_joins_the_container(running, tmp_path):
    init = running.state()["pid"]
    process = process_json(running, args=[PROBE, "all"], cwd="/work",
                           env=["PATH=/bin", "EXEC=1"], user={"uid": 1000, "gid": 1000})
    _, report = exec_detached(running, process, tmp_path)
    for ns in ("mnt", "net", "ipc", "uts", "pid", "cgroup"):
        assert report["namespaces"][ns] == os.readlink(f"/proc/{init}/ns/{ns}"), ns
    assert report["cwd"] == "/work"
    assert "EXEC=1" in report["env"]
    assert (report["ids"]["uid"], report["ids"]["gid"]) == (1000, 1000)
    assert report["pid"]["pid"] != 1
    assert report["cgroup"]["memory"].endswith(running.config["linux"]["cgroupsPath"])
    assert report["hostname"]["hostname"] == running.config["hostname"]


def test_exec_argument_form_and_exit_status(running):
    res = running.cmd("exec", running.id, PROBE, "echo", "from-exec")
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"from-exec\n"
    res = running.cmd("exec", running.id, PROBE, "exit", "5")
    assert res.returncode == 5


def test_exec_fds(running):
    res = running.cmd("exec", running.id, PROBE, "fds")
    assert res.returncode == 0, res.stderr
    assert sorted(json.loads(res.stdout)["fds"], key=int) == ["0", "1", "2"]


def test_exec_missing_executable(running):
    res = running.cmd("exec", running.id, "no-such-command")
    assert res.returncode != 0
    assert b"executable file not found" in res.stderr or b"no-such-command" in res.stderr


def test_exec_into_stopped_container_fails(make):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    ctr.run_to_stopped()
    res = ctr.cmd("exec", ctr.id, PROBE, "exit", "0")
    assert res.returncode != 0
    assert res.stderr.strip()


def test_ps_json(running, tmp_path):
    init = running.state()["pid"]
    res = running.cmd("ps", "--format", "json", running.id)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [init]


def test_pause_and_resume(running):
    res = running.cmd("pause", running.id)
    assert res.returncode == 0, res.stderr
    assert running.state()["status"] == "paused"
    assert freezer_state(running.config["linux"]["cgroupsPath"]) == "FROZEN"
    res = running.cmd("resume", running.id)
    assert res.returncode == 0, res.stderr
    assert running.state()["status"] == "running"
    assert freezer_state(running.config["linux"]["cgroupsPath"]) == "THAWED"


def test_update_resources_from_stdin(running):
    """containerd's form: update --resources - with LinuxResources JSON on stdin."""
    limit = 96 << 20
    res = running.cmd("update", "--resources", "-", running.id,
                      input=json.dumps({"memory": {"limit": limit}, "pids": {"limit": 50}}
                                       ).encode())
    assert res.returncode == 0, res.stderr
    dirs = {d.parent.name: d for d in cgroup_dirs(running.config["linux"]["cgroupsPath"])}
    assert (dirs["memory"] / "memory.limit_in_bytes").read_text().strip() == str(limit)
    assert (dirs["pids"] / "pids.max").read_text().strip() == "50"


def test_update_resources_from_file(running, tmp_path):
    """podman's form: update --resources=FILE."""
    spec = tmp_path / "resources.json"
    spec.write_text(json.dumps({"cpu": {"shares": 256}}))
    res = running.cmd("update", f"--resources={spec}", running.id)
    assert res.returncode == 0, res.stderr
    dirs = {d.parent.name: d for d in cgroup_dirs(running.config["linux"]["cgroupsPath"])}
    assert (dirs["cpu"] / "cpu.shares").read_text().strip() == "256"


def test_kill_all_reaches_exec_processes(running, tmp_path):
    process = process_json(running, args=[PROBE, "sleep"])
    spec = tmp_path / "process.json"
    spec.write_text(json.dumps(process))
    res = running.cmd("exec", "--process", str(spec), "--detach", "--pid-file",
                      str(tmp_path / "p"), running.id)
    assert res.returncode == 0, res.stderr
    exec_pid = int((tmp_path / "p").read_text())
    init = running.state()["pid"]
    assert running.kill("KILL", "--all").returncode == 0
    assert running.reap(exec_pid, block=True) == -9
    running.wait_status("stopped")  # may reap the init already
    running.reap(init, block=True)
    assert running.exit_codes[init] == -9
