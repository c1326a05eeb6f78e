"""More of the contract: run with a terminal, kill of a created container, relative paths,
processes left behind without a pid namespace, --no-pivot, ps --format json, exec."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from pathlib import Path

import pytest
from pyrunc_itest import Runtime, gone, reap_children, wait_until

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]


def test_run_with_a_terminal_and_no_console_socket(rt: Runtime) -> None:
    """`run` with process.terminal: the pty is proxied to the caller's terminal."""
    b = rt.bundle(["sh", "-c", "tty; [ -t 0 ] && echo stdin-tty; exit 4"],
                  lambda c: c["process"].update(terminal=True))
    master, slave = pty.openpty()
    try:
        proc = rt.popen("run", "--bundle", str(b.path), b.id, stdin=slave, stdout=slave,
                        stderr=slave)
        os.close(slave)
        slave = -1
        output = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, output
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd closed (pyrunc exited)
                break
            if not chunk:
                break
            output += chunk
        assert proc.wait(timeout=30) == 4, output
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    text = output.decode(errors="replace").replace("\r", "")
    assert "/dev/pts/0\n" in text and "stdin-tty\n" in text, text
    rt.assert_nothing_left(b)


def test_kill_a_created_container(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    r = rt("kill", b.id, "KILL")
    assert (r.rc, r.out, r.err) == (0, "", "")
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert rt.state(b.id)["status"] == "stopped"
    assert rt("delete", b.id).rc == 0
    rt.assert_nothing_left(b)


def test_relative_bundle_and_pid_file(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    rel = os.path.relpath(b.path, rt.workdir)  # the runtime runs in rt.workdir
    r = rt("create", "-b", rel, "--pid-file", "rel.pid", b.id)
    assert r.rc == 0, r
    st = rt.state(b.id)
    assert st["bundle"] == str(b.path)  # absolute in the state
    assert (rt.workdir / "rel.pid").read_text() == str(st["pid"])


def test_run_writes_the_pid_file(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    r = rt("run", "--pid-file", str(rt.workdir / "run.pid"), "--bundle", str(b.path), b.id)
    assert r.rc == 0, r
    assert (rt.workdir / "run.pid").read_text().isdigit()


def test_processes_left_without_a_pid_namespace_are_killed_on_delete(rt: Runtime,
                                                                      tmp_path: Path) -> None:
    """Without a pid namespace, the init's children outlive it: delete must kill them (they
    are in the container's cgroup) and remove the cgroup."""
    out = tmp_path / "out"

    def no_pidns(c: dict) -> None:
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]

    b = rt.bundle(["sh", "-c", "sleep 1000 & echo $!"], no_pidns)
    with open(out, "wb") as f:
        assert rt("create", "--bundle", str(b.path), b.id, stdout=f).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitpid(pid, 0)
    orphan = int(wait_until(lambda: out.read_text().strip(), what="orphan pid"))
    assert os.path.exists(f"/proc/{orphan}")
    assert rt.state(b.id)["status"] == "stopped"
    r = rt("delete", b.id)
    assert r.rc == 0, r
    reap_children()
    assert not os.path.exists(f"/proc/{orphan}")
    rt.assert_nothing_left(b)


def test_no_pivot(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "ls /bin/busybox && [ ! -e /proc/1/root/work ]"])
    r = rt("run", "--no-pivot", "--bundle", str(b.path), b.id)
    assert r.rc == 0, r
    assert r.out == "/bin/busybox\n"
    rt.assert_nothing_left(b)


def test_ps_json(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "sleep 1000 & exec sleep 1001"])
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]

    def two() -> list[int] | None:
        r = rt("ps", "--format", "json", b.id)
        assert r.rc == 0 and r.err == "", r  # go-runc reads stdout and stderr together
        pids = json.loads(r.out)
        return pids if len(pids) == 2 else None

    pids = wait_until(two, what="two processes")
    assert pid in pids
    assert all(isinstance(p, int) for p in pids)


def test_exec_detached_with_a_process_file(rt: Runtime, tmp_path: Path) -> None:
    """containerd's form: exec --process FILE --detach --pid-file P <id>."""
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    init = rt.state(b.id)["pid"]
    process = dict(b.config["process"], args=["sh", "-c", "echo exec-ran; hostname; exit 6"])
    (tmp_path / "process.json").write_text(json.dumps(process))
    out = tmp_path / "out"
    with open(out, "wb") as f:
        r = rt("exec", "--process", str(tmp_path / "process.json"), "--detach", "--pid-file",
               str(tmp_path / "exec.pid"), b.id, stdout=f)
    assert r.rc == 0, out.read_text()
    pid = int((tmp_path / "exec.pid").read_text())
    _, status = os.waitpid(pid, 0)  # reparented to us, the subreaper
    assert os.WEXITSTATUS(status) == 6
    assert out.read_text().splitlines() == ["exec-ran", b.config["hostname"]]
    for ns in ("pid", "mnt", "uts", "ipc", "net"):
        assert os.readlink(f"/proc/{init}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
    assert rt.state(b.id)["status"] == "running"


def test_exec_foreground_exit_status(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    r = rt("exec", b.id, "sh", "-c", "echo $$; echo err >&2; exit 9")
    assert r.rc == 9, r
    assert r.err == "err\n"
    assert int(r.out) > 1  # a pid inside the container's pid namespace
    r = rt("exec", b.id, "no-such-program")
    assert r.rc != 0 and "executable file not found" in r.err


@pytest.mark.parametrize(("flags", "needle"), [
    (["-e", "NOEQUALS"], "missing '='"),
    (["-e", "=x"], "name cannot be empty"),
    (["--user", "4294967295"], "process.user.uid"),
    (["--user", "0:4294967295"], "process.user.gid"),
    (["--additional-gids", "4294967295"], "process.user.additionalGids[0]"),
])
def test_exec_flags_decode_like_a_config(rt: Runtime, flags: list[str], needle: str) -> None:
    """exec's flags are checked like config.json's process (issue 13): -1/2^32-1 ids would run
    as root, a bad env entry used to kill the process silently."""
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    r = rt("exec", *flags, b.id, "true")
    assert r.rc != 0 and r.out == ""
    assert needle in r.err and r.err.count("\n") == 1, r.err


def test_exec_process_file_is_decoded(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    process = dict(b.config["process"], args=["true"], user={"uid": -1, "gid": 0})
    (tmp_path / "process.json").write_text(json.dumps(process))
    r = rt("exec", "--process", str(tmp_path / "process.json"), b.id)
    assert r.rc != 0 and "process.user.uid" in r.err and r.err.count("\n") == 1, r.err


@pytest.mark.parametrize(("resources", "needle"), [
    ({"pids": 5}, "resources.pids: expected object, got integer"),
    ({"memory": {"limit": "64m"}}, "resources.memory.limit: expected integer, got string"),
    ({"devices": [{"allow": "true"}]}, "resources.devices[0].allow"),
    ({"hugepageLimits": {}}, "resources.hugepageLimits"),
])
def test_update_input_decodes_like_a_config(rt: Runtime, resources: dict, needle: str) -> None:
    """pyrunc update's JSON is linux.resources, with the same types (issue 13: the cgroup
    writers crashed with TypeError/AttributeError); a refused update changes nothing."""
    b = rt.bundle(SLEEP, lambda c: c["linux"].setdefault("resources", {}).update(
        pids={"limit": 100}))
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    r = rt("update", "--resources", "-", b.id, input=json.dumps(resources).encode())
    assert r.rc != 0 and r.out == ""
    assert needle in r.err and r.err.count("\n") == 1, r.err
    r = rt("update", "--resources", "-", b.id, input=b'{"pids": {"limit": 50}}')
    assert r.rc == 0, r
    pids_max = Path("/sys/fs/cgroup/pids") / b.cgroups_path.lstrip("/") / "pids.max"
    if pids_max.exists():  # hybrid/v1 layout (this machine); v2 is covered by tests/integration
        assert pids_max.read_text().strip() == "50"


def test_exec_into_a_stopped_container_fails(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    assert rt("run", "--keep", "--bundle", str(b.path), b.id).rc == 0
    r = rt("exec", b.id, "true")
    assert r.rc != 0 and ("stopped" in r.err or "not running" in r.err), r
    assert rt("delete", b.id).rc == 0
    rt.assert_nothing_left(b)


def test_spec_verb(rt: Runtime, tmp_path: Path) -> None:
    d = tmp_path / "specdir"
    d.mkdir()
    r = rt("spec", "--bundle", str(d))
    assert (r.rc, r.out, r.err) == (0, "", "")
    assert json.loads((d / "config.json").read_text())["process"]["args"] == ["sh"]
    r = rt("spec", "-b", str(d))
    assert r.rc != 0 and "exists" in r.err
    r = rt("spec", "--rootless", "--bundle", str(tmp_path / "missing"))
    assert r.rc != 0 and "missing" in r.err


def test_delete_while_the_exited_init_is_an_unreaped_zombie(rt: Runtime) -> None:
    """The init exited but its parent (the shim; here us) has not reaped it yet."""
    b = rt.bundle(["true"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # exited, left a zombie
    assert rt.state(b.id)["status"] == "stopped"
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)


def test_containerd_style_log_stays_parseable(rt: Runtime, tmp_path: Path) -> None:
    """The shim passes --log B/log.json --log-format json to every call; the file must only ever
    hold JSON objects (any other text breaks containerd's decoder)."""
    log = tmp_path / "log.json"
    g = ("--log", str(log), "--log-format", "json")
    b = rt.bundle(SLEEP)
    pid_file = str(tmp_path / "init.pid")
    assert rt("create", "--bundle", str(b.path), "--pid-file", pid_file, b.id,
              global_args=g).rc == 0
    assert rt("start", b.id, global_args=g).rc == 0
    assert rt("kill", b.id, "15", global_args=g).rc == 0
    assert rt("kill", "--all", b.id, "9", global_args=g).rc == 0
    os.waitpid(int(Path(pid_file).read_text()), 0)
    assert rt("delete", b.id, global_args=g).rc == 0
    assert rt("delete", "--force", b.id, global_args=g).rc == 0  # the cleanup shim
    assert rt("kill", b.id, "9", global_args=g).rc != 0
    objs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert all(set(o) >= {"level", "msg"} for o in objs), objs
    assert [o["level"] for o in objs if o["level"] == "error"] == ["error"], objs
    assert "does not exist" in objs[-1]["msg"]


def test_podman_style_log_is_one_object(rt: Runtime, tmp_path: Path) -> None:
    """podman unmarshals the whole --log file as ONE object {msg, level, time}."""
    log = tmp_path / "oci-log"
    b = rt.bundle(["/no/such/binary"])
    r = rt("create", "--bundle", str(b.path), "--pid-file", str(tmp_path / "pidfile"), b.id,
           global_args=("--log-format=json", "--log", str(log)))
    assert r.rc != 0
    obj = json.loads(log.read_text())
    assert obj["level"] == "error" and "/no/such/binary" in obj["msg"]
    assert r.err.strip() == obj["msg"]  # conmon's fallback: stderr
    rt.assert_nothing_left(b)


def test_parallel_runs_of_distinct_ids_in_a_fresh_root(rt: Runtime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    bundles = [rt.bundle(["true"]) for _ in range(5)]
    with ThreadPoolExecutor(len(bundles)) as pool:
        results = list(pool.map(lambda b: rt("run", "--bundle", str(b.path), b.id), bundles))
    assert [r.rc for r in results] == [0] * len(bundles), results
    for b in bundles:
        rt.assert_nothing_left(b)


def _bare(rt: Runtime, *args: str,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """pyrunc as podman calls it: no --root, an environment of only XDG_RUNTIME_DIR=."""
    return subprocess.run([rt.launcher, *args], env=env if env is not None else
                          {"XDG_RUNTIME_DIR": ""}, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd="/")


def test_podman_calls_default_root_and_empty_environment(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP)
    default_dir = Path("/run/pyrunc") / b.id
    with open(tmp_path / "out", "wb") as f:
        proc = subprocess.run([rt.launcher, "create", "--bundle", str(b.path), b.id],
                              env={"XDG_RUNTIME_DIR": "", "LC_CTYPE": "C.UTF-8"}, stdout=f,
                              stderr=f, stdin=subprocess.DEVNULL, timeout=60)
    try:
        assert proc.returncode == 0, (tmp_path / "out").read_text()
        assert default_dir.is_dir()
        st = json.loads(_bare(rt, "state", b.id).stdout)
        assert st["status"] == "created"
        r = _bare(rt, "start", b.id, env={"XDG_RUNTIME_DIR": "", "PATH": "/usr/bin:/bin"})
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        r = _bare(rt, "kill", b.id, "9")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        os.waitpid(st["pid"], 0)
        r = _bare(rt, "delete", "--force", b.id)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        assert not default_dir.exists()
    finally:
        _bare(rt, "delete", "--force", b.id)


def test_console_master_has_zero_winsize_unless_console_size(rt: Runtime, tmp_path: Path) -> None:
    import array
    import fcntl
    import socket
    import struct
    import termios

    for size in (None, {"height": 33, "width": 101}):
        def tty(c: dict, size: dict | None = size) -> None:
            c["process"]["terminal"] = True
            if size:
                c["process"]["consoleSize"] = size

        b = rt.bundle(SLEEP, tty)
        sock_path = str(tmp_path / f"pty-{b.id}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sock_path)
        listener.listen(1)
        try:
            r = rt("create", "--bundle", str(b.path), "--console-socket", sock_path, b.id)
            assert r.rc == 0, r
            listener.settimeout(20)
            conn, _ = listener.accept()
            with conn:
                fds = array.array("i")
                _, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
                fds.frombytes(anc[0][2][: fds.itemsize])
            master = fds[0]
            try:
                rows, cols = struct.unpack("HHHH", fcntl.ioctl(master, termios.TIOCGWINSZ,
                                                               bytes(8)))[:2]
            finally:
                os.close(master)
            assert (rows, cols) == ((size["height"], size["width"]) if size else (0, 0))
        finally:
            listener.close()


def test_kill_all_without_a_pid_namespace(rt: Runtime, tmp_path: Path) -> None:
    """The shim's `kill --all <id> 9` when the container shares the host pid namespace."""
    out = tmp_path / "out"

    def no_pidns(c: dict) -> None:
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]

    b = rt.bundle(["sh", "-c", "sleep 1000 & echo $!; exec sleep 1001"], no_pidns)
    with open(out, "wb") as f:
        assert rt("create", "--bundle", str(b.path), b.id, stdout=f).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    child = int(wait_until(lambda: out.read_text().strip(), what="child pid"))
    r = rt("kill", "--all", b.id, "9")
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    wait_until(lambda: gone(child), what="child")
    assert rt("delete", b.id).rc == 0
    reap_children()
    rt.assert_nothing_left(b)


def test_create_preserve_fds(rt: Runtime, tmp_path: Path) -> None:
    """conmon passes --preserve-fds to create: the fds must survive until start."""
    b = rt.bundle(["sh", "-c", "echo kept >&3; echo leaked >&4; true"])
    fd_files = {n: str(tmp_path / f"fd{n}") for n in (3, 4)}
    r = rt("create", "--preserve-fds", "1", "--bundle", str(b.path), b.id, fd_files=fd_files)
    assert r.rc == 0, r
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0  # (the failed `>&4` does not stop sh)
    assert Path(fd_files[3]).read_text() == "kept\n"
    assert Path(fd_files[4]).read_text() == ""


@pytest.mark.parametrize("kind", ["poststart", "createRuntime"])
def test_run_survives_sigterm_while_setting_up(rt: Runtime, tmp_path: Path, kind: str) -> None:
    """runc's `run` catches signals before it creates the container and forwards them once the
    process runs. A SIGTERM while `run` is still in a hook must not kill pyrunc and orphan the
    container: the container gets the signal, `run` exits with its status, nothing is left."""
    marker = tmp_path / "hook-started"

    def mutate(c: dict) -> None:
        c["hooks"] = {kind: [{"path": "/bin/sh",
                              "args": ["sh", "-c", f"touch {marker}; sleep 2"]}]}

    b = rt.bundle(["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"], mutate)
    proc = rt.popen("run", "--bundle", str(b.path), b.id, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        wait_until(marker.exists, what=f"{kind} hook")
        proc.terminate()
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert status != -15, "pyrunc run was killed by SIGTERM instead of forwarding it"
    if kind == "poststart":
        assert status == 42
    reap_children()
    rt.assert_nothing_left(b)
