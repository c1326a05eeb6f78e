"""Lifecycle (create/start/state/kill/delete), state JSON, pid file, fds, console socket, list,
kill signal spellings, run exit status and --detach, --version."""

from __future__ import annotations

import array
import contextlib
import fcntl
import json
import os
import re
import select
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from spectest.bundle import PROBE, Container
from spectest.host import cgroup_dirs, marked_processes
from spectest.runtime import COMMAND_TIMEOUT

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def assert_not_found(stderr: bytes) -> None:
    """podman and containerd recognise a missing container by these words."""
    assert b"does not exist" in stderr or b"No such file" in stderr, stderr


def sleeping(make) -> Container:
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    return ctr


def created(make) -> Container:
    ctr = sleeping(make)
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    return ctr


def exe_of(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def test_create_start_kill_delete(make):
    ctr = sleeping(make)
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"" and res.stderr == b"", "create must print nothing on success"
    st = ctr.state()
    assert st["status"] == "created"
    pid = st["pid"]
    assert pid > 0
    assert os.path.basename(exe_of(pid)) != "probe", "user process ran before start"

    res = ctr.start()
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"" and res.stderr == b""
    st = ctr.wait_status("running")
    assert st["pid"] == pid

    res = ctr.kill("TERM")
    assert res.returncode == 0, res.stderr
    st = ctr.wait_status("stopped")
    ctr.reap(pid, block=True)
    assert ctr.exit_codes.get(pid) == 128 + 15
    assert ctr.state()["pid"] == 0, "a stopped container reports pid 0 (runc's state)"

    res = ctr.delete()
    assert res.returncode == 0, res.stderr
    res = ctr.state_raw()
    assert res.returncode != 0
    assert_not_found(res.stderr)
    assert not (Path(ctr.rt.root) / ctr.id).exists()


def test_init_is_child_of_caller(make):
    """containerd's shim and conmon are subreapers and reap the init themselves."""
    ctr = created(make)
    pid = ctr.state()["pid"]
    stat = Path(f"/proc/{pid}/stat").read_text()
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    assert ppid == os.getpid()


def test_state_fields(make):
    ctr = sleeping(make)
    ctr.config["annotations"] = {"org.spectest.key": "value"}
    assert ctr.create().returncode == 0
    st = ctr.state()
    assert st["ociVersion"].startswith("1.")
    assert st["id"] == ctr.id
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert st["bundle"] == str(ctr.bundle)
    assert st["rootfs"] == ctr.config["root"]["path"]
    assert RFC3339.match(st["created"]), st["created"]
    assert "owner" in st
    assert st.get("annotations") == {"org.spectest.key": "value"}


def test_state_of_missing_container(make):
    ctr = make()
    res = ctr.state_raw()
    assert res.returncode != 0
    assert_not_found(res.stderr)


def test_pid_file_has_no_newline(make):
    ctr = sleeping(make)
    pid_file = ctr.bundle / "init.pid"
    assert ctr.create("--pid-file", str(pid_file)).returncode == 0
    content = pid_file.read_bytes()
    assert content == str(ctr.state()["pid"]).encode()


def test_relative_pid_file_is_relative_to_cwd(make):
    ctr = sleeping(make)
    ctr.write_config()
    res = ctr.cmd("create", "--bundle", str(ctr.bundle), "--pid-file", "init.pid", ctr.id,
                  cwd=str(ctr.bundle))
    assert res.returncode == 0, res.stderr
    assert (ctr.bundle / "init.pid").read_bytes() == str(ctr.state()["pid"]).encode()


def test_flag_equals_spelling(make):
    ctr = sleeping(make)
    ctr.write_config()
    res = ctr.cmd("create", f"--bundle={ctr.bundle}", f"--pid-file={ctr.bundle}/p", ctr.id)
    assert res.returncode == 0, res.stderr
    assert ctr.state()["status"] == "created"


def test_start_twice_fails(make):
    ctr = created(make)
    assert ctr.start().returncode == 0
    res = ctr.start()
    assert res.returncode != 0
    assert res.stderr.strip(), "no error message"


def test_delete_running_needs_force(make):
    ctr = created(make)
    assert ctr.start().returncode == 0
    pid = ctr.wait_status("running")["pid"]
    res = ctr.delete()
    assert res.returncode != 0
    assert ctr.state()["status"] == "running"
    res = ctr.delete(force=True)
    assert res.returncode == 0, res.stderr
    ctr.reap(pid, block=True)
    assert ctr.state_raw().returncode != 0


def test_delete_created_with_force(make):
    ctr = created(make)
    pid = ctr.state()["pid"]
    assert ctr.delete(force=True).returncode == 0
    ctr.reap(pid, block=True)
    assert not Path(f"/proc/{pid}").exists() or pid in ctr.reaped


def test_delete_force_missing_container_exits_0(make):
    res = make().delete(force=True)
    assert res.returncode == 0, res.stderr


def test_delete_missing_container_fails(make):
    res = make().delete()
    assert res.returncode != 0
    assert_not_found(res.stderr)


def test_kill_stopped_container_fails(make):
    ctr = created(make)
    assert ctr.start().returncode == 0
    ctr.kill("KILL")
    ctr.wait_status("stopped")
    res = ctr.kill("TERM")
    assert res.returncode != 0
    assert b"not running" in res.stderr.lower() or b"no such process" in res.stderr.lower()


@pytest.mark.parametrize("signal_arg,exit_code", [
    ("TERM", 143), ("SIGTERM", 143), ("15", 143),
    ("USR1", 138), ("SIGUSR1", 138), ("10", 138),
    ("KILL", -9), ("9", -9),
])
def test_kill_signal_spellings(make, signal_arg, exit_code):
    ctr = created(make)
    assert ctr.start().returncode == 0
    pid = ctr.wait_status("running")["pid"]
    res = ctr.kill(signal_arg)
    assert res.returncode == 0, res.stderr
    ctr.wait_status("stopped")
    ctr.reap(pid, block=True)
    assert ctr.exit_codes[pid] == exit_code


def test_kill_all(make):
    ctr = created(make)
    assert ctr.start().returncode == 0
    pid = ctr.wait_status("running")["pid"]
    res = ctr.kill("KILL", "--all")
    assert res.returncode == 0, res.stderr
    ctr.wait_status("stopped")
    ctr.reap(pid, block=True)
    assert ctr.exit_codes[pid] == -9


def test_kill_created_container(make):
    ctr = created(make)
    pid = ctr.state()["pid"]
    assert ctr.kill("KILL").returncode == 0
    ctr.wait_status("stopped")
    ctr.reap(pid, block=True)
    assert ctr.exit_codes[pid] == -9


def test_list(make):
    ctr = created(make)
    res = ctr.cmd("list", "-q")
    assert res.returncode == 0, res.stderr
    assert ctr.id in res.stdout.decode().split()
    res = ctr.cmd("list", "--format", "json")
    assert res.returncode == 0, res.stderr
    entries = {e["id"]: e for e in json.loads(res.stdout)}
    entry = entries[ctr.id]
    assert entry["status"] == "created"
    assert entry["pid"] == ctr.state()["pid"]
    assert entry["bundle"] == str(ctr.bundle)
    res = ctr.cmd("list")
    assert res.returncode == 0 and ctr.id in res.stdout.decode()


def test_run_detach(make):
    ctr = sleeping(make)
    res = ctr.run("--detach")
    assert res.returncode == 0, res.stderr
    assert ctr.state()["status"] == "running"


def test_run_exit_status_of_signalled_container(make):
    ctr = make()
    ctr.config["process"]["args"] = ["sh", "-c", "kill -USR2 $$"]
    drop_pid_ns = [ns for ns in ctr.config["linux"]["namespaces"] if ns["type"] != "pid"]
    ctr.config["linux"]["namespaces"] = drop_pid_ns  # pid 1 ignores default-action signals
    res = ctr.run()
    assert res.returncode == 128 + 12, res.stderr


def test_version(runtime):
    res = runtime.cmd("--version")
    assert res.returncode == 0
    lines = res.stdout.decode().splitlines()
    assert re.match(r"^\S+ version \S+", lines[0]), lines
    assert any(re.match(r"^spec: 1\.\d+\.\d+", line) for line in lines), lines


# ---- file descriptors ----
def run_with_extra_fds(ctr: Container, *extra: str) -> dict:
    """`run` with fds 3, 4 and 5 open in the runtime (as a shim or conmon may leak them)."""
    ctr.config["process"]["args"] = [PROBE, "fds"]
    ctr.write_config()
    ctr.created = True
    argv = ["sh", "-c", 'exec 3</dev/null 4<"$0" 5</dev/null; exec "$@"',
            str(ctr.bundle / "config.json"),
            *ctr.rt.argv("run", "--bundle", str(ctr.bundle), *extra, ctr.id)]
    res = subprocess.run(argv, capture_output=True, env=ctr.env(), stdin=subprocess.DEVNULL,
                         timeout=COMMAND_TIMEOUT, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["fds"]


def test_only_stdio_fds_reach_the_container(make):
    fds = run_with_extra_fds(make())
    assert sorted(fds, key=int) == ["0", "1", "2"], fds


def test_preserve_fds(make):
    fds = run_with_extra_fds(make(), "--preserve-fds", "2")
    assert sorted(fds, key=int) == ["0", "1", "2", "3", "4"], fds
    assert fds["4"].endswith("/config.json")


# ---- console socket ----
def recv_one_fd(conn: socket.socket) -> tuple[bytes, list[int], int]:
    fds = array.array("i")
    msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(8 * fds.itemsize))
    received = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            chunk = array.array("i")
            chunk.frombytes(data[: len(data) - (len(data) % chunk.itemsize)])
            received += list(chunk)
    return msg, received, len(ancdata)


def read_until_eof(fd: int, limit: int = 1 << 20) -> bytes:
    out = b""
    while len(out) < limit:
        ready, _, _ = select.select([fd], [], [], COMMAND_TIMEOUT)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the slave side is closed
            break
        if not chunk:
            break
        out += chunk
    return out


def test_console_socket(make, tmp_path):
    ctr = make()
    ctr.config["process"]["terminal"] = True
    ctr.config["process"]["args"] = [PROBE, "all", "/dev/console"]
    sock_path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    master = -1
    try:
        server.bind(sock_path)
        server.listen(1)
        # like containerd: accept only after create returned
        res = ctr.create("--console-socket", sock_path)
        assert res.returncode == 0, res.stderr
        server.settimeout(COMMAND_TIMEOUT)
        conn, _ = server.accept()
        with conn:
            msg, fds, n_cmsg = recv_one_fd(conn)
        assert n_cmsg == 1 and len(fds) == 1, (n_cmsg, fds)
        assert msg, "payload must be non-empty"
        master = fds[0]
        assert not fcntl.fcntl(master, fcntl.F_GETFL) & os.O_NONBLOCK
        assert ctr.start().returncode == 0
        output = read_until_eof(master)
    finally:
        server.close()
        if master >= 0:
            os.close(master)
    text = output.decode(errors="replace")
    report = json.loads(text[text.index("{"): text.rindex("}") + 1])
    assert report["tty"]["isatty"] == [True, True, True]
    assert report["tty"]["ttyname"] == "/dev/pts/0"
    console = report["paths"]["/dev/console"]
    assert console["exists"] and console["type"] == "c"
    assert console["major"] == 136 and console["minor"] == 0, console


def test_no_pivot(make):
    """--no-pivot: MS_MOVE + chroot instead of pivot_root; the container sees the same root."""
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "paths", "/probe", "/etc/passwd"]
    res = ctr.run("--no-pivot")
    assert res.returncode == 0, res.stderr
    paths = json.loads(res.stdout)["paths"]
    assert paths["/probe"]["exists"] and paths["/etc/passwd"]["read_ok"]


def test_no_new_keyring_is_accepted(make):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    res = ctr.run("--no-new-keyring")
    assert res.returncode == 0, res.stderr


def test_init_killed_behind_our_back(make):
    """state recovers when the init died without the runtime knowing."""
    ctr = created(make)
    assert ctr.start().returncode == 0
    pid = ctr.wait_status("running")["pid"]
    os.kill(pid, 9)
    ctr.reap(pid, block=True)
    assert ctr.state()["status"] == "stopped"
    assert ctr.delete().returncode == 0


def test_cgroup_created_and_removed(make):
    ctr = created(make)
    pid = ctr.state()["pid"]
    dirs = cgroup_dirs(ctr.config["linux"]["cgroupsPath"])
    names = {d.parent.name for d in dirs}
    assert {"memory", "pids", "cpu", "devices"} <= names, names
    memory = next(d for d in dirs if d.parent.name == "memory")
    assert str(pid) in (memory / "cgroup.procs").read_text().split()
    assert ctr.delete(force=True).returncode == 0
    ctr.reap(pid, block=True)
    assert cgroup_dirs(ctr.config["linux"]["cgroupsPath"]) == []


def test_spec_verb_writes_a_valid_config(runtime, tmp_path):
    from spectest.schema import validate_config

    for extra in ((), ("--rootless",)):
        bundle = tmp_path / ("rootless" if extra else "default")
        bundle.mkdir()
        res = runtime.cmd("spec", "--bundle", str(bundle), *extra)
        assert res.returncode == 0, res.stderr
        config = json.loads((bundle / "config.json").read_text())
        assert validate_config(config) == [], extra
        assert config["root"]["path"] == "rootfs"
        if extra:
            assert "user" in [ns["type"] for ns in config["linux"]["namespaces"]]
    res = runtime.cmd("spec", "--bundle", str(tmp_path / "default"))
    assert res.returncode != 0, "spec must not overwrite an existing config.json"


def test_concurrent_create_of_one_id(make, rootfs):
    """Four creates of the same id at once: exactly one wins, the others say it exists."""
    ctr = sleeping(make)
    ctr.write_config()
    ctr.created = True
    argv = ctr.rt.argv("create", "--bundle", str(ctr.bundle), ctr.id)
    # files, not pipes: the winner's container inherits its runtime's stdio
    with contextlib.ExitStack() as stack:
        errs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(4)]
        procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=err, env=ctr.env()) for err in errs]
        codes = [p.wait(timeout=COMMAND_TIMEOUT) for p in procs]
        results = []
        for code, err in zip(codes, errs, strict=True):
            err.seek(0)
            results.append((code, err.read()))
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    for rc, err in results:
        if rc != 0:
            assert b"exist" in err.lower(), err
    st = ctr.state()
    assert st["status"] == "created"
    processes = [p for p in marked_processes(ctr.id) if p != st["pid"]]
    assert processes == [], "losers left processes behind"


def test_start_of_stopped_container_fails(make):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    ctr.run_to_stopped()
    res = ctr.start()
    assert res.returncode != 0
    assert res.stderr.strip()


def test_kill_with_unknown_signal_fails(make):
    ctr = created(make)
    res = ctr.kill("SIGNOPE")
    assert res.returncode != 0
    assert b"SIGNOPE" in res.stderr or b"signal" in res.stderr.lower(), res.stderr
    assert ctr.state()["status"] == "created"


def test_json_log_on_success_and_equals_spelling(make, tmp_path):
    """--log-format=json --log=FILE (conmon's spelling): a successful create logs no error and
    every line is a JSON object with level, msg and an RFC 3339 time."""
    ctr = sleeping(make)
    ctr.write_config()
    log = tmp_path / "log.json"
    res = ctr.cmd("create", "--bundle", str(ctr.bundle), ctr.id,
                  global_flags=("--log-format=json", f"--log={log}"))
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"" and res.stderr == b""
    ctr.created = True
    for line in log.read_text().splitlines() if log.exists() else []:
        entry = json.loads(line)
        assert entry.get("level") != "error", entry
        assert RFC3339.match(entry["time"]), entry
