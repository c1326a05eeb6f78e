"""How the init gets into its cgroups, and how delete leaves them, on this host's hybrid layout:
the init is born in its cgroup v2 directory (clone3 CLONE_INTO_CGROUP, no ~10 ms migration);
device nodes are made only after the device rules are final; delete of a stopped container
removes empty cgroups without loading the managers, and still kills what was left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyrunc_itest import Bundle, Runtime, cgroup_dirs, wait_until

SLEEP = ["sleep", "1000"]
REAL_PYTHON = os.path.realpath(sys.executable)


def _cgroup_lines(pid: int) -> dict[str, str]:
    """controllers (or "" for cgroup2) -> path, from /proc/PID/cgroup."""
    out = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        out[controllers] = path
    return out


def test_init_is_born_in_every_cgroup(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP)
    log = tmp_path / "debug.log"
    r = rt("create", "--bundle", str(b.path), b.id,
           global_args=("--debug", "--log", str(log)))
    assert r.rc == 0, r
    pid = rt.state(b.id)["pid"]
    lines = _cgroup_lines(pid)
    assert lines, "no cgroup lines"
    assert "" in lines  # the cgroup2 hierarchy
    for controllers, path in lines.items():
        assert path == b.cgroups_path, (controllers, path)
    text = log.read_text()
    assert "forking, then joining" not in text  # the kernel took CLONE_INTO_CGROUP
    assert "init in its cgroups" in text


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/devices"), reason="no v1 devices")
def test_device_nodes_exist_under_a_restrictive_device_cgroup(rt: Runtime) -> None:
    """Deny-all plus the default allow list: the init makes /dev/null, /dev/full, ... after P
    wrote the rules (cgroup v1 rewrites them in several steps), never in between."""
    def restrictive(config: dict) -> None:
        config["linux"].setdefault("resources", {})["devices"] = [{"allow": False,
                                                                    "access": "rwm"}]

    for _ in range(2):  # a real run (the ordering itself is a unit test: test_pyrunc_init_order)
        b = rt.bundle(["sh", "-c", "ls /dev/null /dev/full /dev/zero /dev/urandom /dev/tty"],
                      restrictive)
        r = rt("run", "--bundle", str(b.path), b.id, timeout=60)
        assert r.rc == 0, r
        rt.assert_nothing_left(b)


def _run_importtime(rt: Runtime, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    out = subprocess.run([REAL_PYTHON, "-I", "-S", "-X", "importtime", *rt.argv(*args)],
                         capture_output=True, text=True, env=rt.env(), cwd=rt.workdir,
                         stdin=subprocess.DEVNULL, timeout=60)
    loaded = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines()
              if line.startswith("import time:") and "|" in line}
    return out, loaded


def test_delete_of_a_stopped_container_skips_the_managers(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitpid(pid, 0)  # we are the subreaper
    rt.wait_status(b.id, "stopped")
    assert cgroup_dirs(b.cgroups_path)
    out, loaded = _run_importtime(rt, "delete", b.id)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "pyrunc.cgroups.manager" not in loaded
    assert "pyrunc.cgroup_record" in loaded
    rt.assert_nothing_left(b)


def test_delete_kills_what_the_init_left_in_its_cgroup(rt: Runtime) -> None:
    """No pid namespace: the init's background child outlives it, in the container's cgroup.
    Plain delete of the stopped container must kill it and still remove every cgroup."""
    def host_pidns(config: dict) -> None:
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                         if n["type"] != "pid"]

    b = rt.bundle(["sh", "-c", "sleep 1000 & exit 0"], host_pidns)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitpid(pid, 0)
    rt.wait_status(b.id, "stopped")
    leftovers = wait_until(lambda: [d for d in cgroup_dirs(b.cgroups_path)
                                    if Path(d, "cgroup.procs").read_text().strip()],
                           what="the background child in the cgroup")
    assert leftovers
    r = rt("delete", b.id)
    assert r.rc == 0, r
    rt.assert_nothing_left(b)


UNIFIED = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") \
    else "/sys/fs/cgroup"


@pytest.mark.skipif(not os.path.exists(f"{UNIFIED}/cgroup.procs"), reason="no cgroup2 mount")
def test_fork_into_cgroup_seam(tmp_path: Path) -> None:
    """The syscall seam's clone3(CLONE_INTO_CGROUP): the child starts in the directory, and
    the interpreter keeps working in it (PyOS_AfterFork_Child ran)."""
    from pyrunc.linux.syscalls import SYS

    name = f"pyrunc-itest-clone3-{os.getpid()}"
    directory = os.path.join(UNIFIED, name)
    os.mkdir(directory)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    pid = 0
    try:
        pid = SYS.fork_into_cgroup(fd)
        if pid == 0:
            try:
                import json  # noqa: F401  (an import works in the child)

                ok = f"0::/{name}" in Path("/proc/self/cgroup").read_text().splitlines()
                os._exit(0 if ok else 3)
            finally:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        os.close(fd)
        wait_until(lambda: _rmdir(directory), what=f"rmdir {directory}")


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


PURE_V2 = """set -e
mount --make-rprivate /
umount -R /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup
exec "$@"
"""


@pytest.mark.skipif(not os.path.ismount("/sys/fs/cgroup/unified"), reason="not hybrid")
def test_pure_v2_layout_in_a_private_mount_namespace(rt: Runtime, tmp_path: Path) -> None:
    """With only cgroup2 mounted (as on a v2-only host), the init is born in its directory and
    nobody migrates it afterwards (neither stage 1 nor P)."""
    def devices_only(config: dict) -> None:
        resources = config["linux"].get("resources") or {}
        config["linux"]["resources"] = {"devices": resources.get("devices") or []}

    b = rt.bundle(["cat", "/proc/self/cgroup"], devices_only)
    log = tmp_path / "debug.log"
    # Seen as the root of a v2-only layout, the hierarchy gets its controllers enabled in the
    # root's subtree_control (as runc does on such a host): put back what was there.
    control = Path("/sys/fs/cgroup/unified/cgroup.subtree_control")
    before = set(control.read_text().split())
    try:
        _run_pure_v2(rt, b, log)
    finally:
        for controller in set(control.read_text().split()) - before:
            with contextlib.suppress(OSError):
                control.write_text(f"-{controller}")
    text = log.read_text()
    assert "init in its cgroups" in text
    assert "forking, then joining" not in text
    assert "moving the init" not in text
    rt.assert_nothing_left(b)


def _run_pure_v2(rt: Runtime, b: Bundle, log: Path) -> None:
    out = subprocess.run(["unshare", "-m", "sh", "-c", PURE_V2, "sh",
                          *rt.argv("run", "--bundle", str(b.path), b.id,
                                   global_args=("--debug", "--log", str(log)))],
                         capture_output=True, text=True, env=rt.env(), cwd=rt.workdir,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert out.returncode == 0, out.stderr + log.read_text()
    v2 = [line for line in out.stdout.splitlines() if line.startswith("0::")]
    assert v2 in (["0::/"], [f"0::{b.cgroups_path}"]), out.stdout  # cgroupns root, or the path
