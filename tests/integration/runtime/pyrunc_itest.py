"""Helpers for pyrunc's integration tests (root, real namespaces/cgroups/mounts).

Each test gets its own --root, bundles under a 0755 session dir (a user-namespaced container must
be able to traverse it) and unique ids and cgroupsPaths. The runtime runs through the lean launcher
written from this checkout. The test process is a child subreaper while these tests run (like
containerd's shim and conmon), so container inits become its children; finalizers force-delete
every container, kill marked processes, remove cgroups and reap the inits, pass or fail.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import glob
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
CGROUP_PARENT = f"pyrunc-itest-{uuid.uuid4().hex[:8]}"  # one per session: runs may overlap
MARK_VAR = "PYRUNC_ITEST_MARK"
PR_SET_CHILD_SUBREAPER = 36
_serial = itertools.count(1)


def set_subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll until predicate() is truthy (a generous bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def cgroup_dirs(cgroups_path: str) -> list[str]:
    """Every directory of that cgroupsPath in any mounted hierarchy (v1 and the cgroup2 one)."""
    rel = cgroups_path.strip("/")
    found = glob.glob(f"/sys/fs/cgroup/*/{rel}") + glob.glob(f"/sys/fs/cgroup/{rel}")
    return [d for d in found if os.path.isdir(d)]


def remove_cgroup(cgroups_path: str) -> None:
    for d in cgroup_dirs(cgroups_path):
        for sub, _dirs, _ in sorted(os.walk(d), key=lambda t: -t[0].count("/")):
            try:
                with open(os.path.join(sub, "cgroup.procs")) as f:
                    pids = f.read().split()
            except OSError:
                continue
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        for sub, _dirs, _ in sorted(os.walk(d), key=lambda t: -t[0].count("/")):
            # EBUSY until the killed processes have left: a generous bound for a loaded machine.
            deadline = time.monotonic() + 30
            while True:
                try:
                    os.rmdir(sub)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)


def gone(pid: int) -> bool:
    """The process has exited: no such pid, or a zombie not yet reaped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    return data[data.rfind(b")") + 2:][:1] == b"Z"


def marked_pids(mark: str) -> list[int]:
    """Processes whose environment carries our mark (runtime children, inits, hooks, payloads)."""
    needle = f"{MARK_VAR}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rfind(b")") + 2:][:1] == b"Z":
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry))
    return found


def pids_referencing(path: str) -> list[int]:
    """Live processes whose cmdline, cwd or root mentions path."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
            rootdir = os.readlink(f"/proc/{entry}/root")
        except OSError:
            continue
        if path in cmd or cwd.startswith(path) or rootdir.startswith(path):
            found.append(int(entry))
    return found


def mounts_referencing(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if path in line]


def reap_children() -> None:
    """Reap exited children (inits re-parented to us). Only called when no Popen is pending."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Result:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.rc = proc.returncode
        self.out = proc.stdout.decode(errors="replace") if proc.stdout is not None else ""
        self.err = proc.stderr.decode(errors="replace") if proc.stderr is not None else ""

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, out={self.out[-400:]!r}, err={self.err[-400:]!r})"


class Bundle:
    def __init__(self, cid: str, path: Path, config: dict[str, Any]) -> None:
        self.id = cid
        self.path = path
        self.config = config

    @property
    def cgroups_path(self) -> str:
        return self.config["linux"]["cgroupsPath"]

    def save(self) -> None:
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))


class Runtime:
    """One test's pyrunc: its own --root, its bundles, and their cleanup."""

    def __init__(self, launcher: str, workdir: Path, base_config: dict[str, Any],
                 rootfs: Path) -> None:
        self.launcher = launcher
        self.workdir = workdir
        self.root = str(workdir / "root")
        self.base_config = base_config
        self.rootfs = rootfs
        self.bundles: list[Bundle] = []
        self.mark = uuid.uuid4().hex[:12]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env[MARK_VAR] = self.mark
        return env

    def argv(self, *args: str, global_args: tuple[str, ...] = ()) -> list[str]:
        return [self.launcher, "--root", self.root, *global_args, *args]

    def __call__(self, *args: str, input: bytes | None = None, stdin: Any = None,
                 stdout: Any = None, stderr: Any = None,
                 global_args: tuple[str, ...] = (), fd_files: dict[int, str] | None = None,
                 timeout: float = 60) -> Result:
        """Run pyrunc and wait for it. Output is captured through files, not pipes: a container
        inherits the runtime's stdio, and a pipe would stay open as long as the container runs.
        fd_files opens extra fds (number -> file, appended) in the runtime's process only."""
        argv = self.argv(*args, global_args=global_args)
        if fd_files:
            redirs = " ".join(f"{n}>>{shlex.quote(p)}" for n, p in sorted(fd_files.items()))
            argv = ["/bin/sh", "-c", f'exec "$@" {redirs}', "sh", *argv]
        if input is not None:
            stdin = tempfile.TemporaryFile()  # noqa: SIM115
            stdin.write(input)
            stdin.seek(0)
        elif stdin is None:
            stdin = subprocess.DEVNULL
        out_file = (tempfile.TemporaryFile()  # noqa: SIM115
                    if stdout is None else None)
        err_file = (tempfile.TemporaryFile()  # noqa: SIM115
                    if stderr is None else None)
        try:
            proc = subprocess.run(argv, stdin=stdin, stdout=out_file or stdout,
                                  stderr=err_file or stderr, env=self.env(), timeout=timeout,
                                  cwd=self.workdir)
            for f, attr in ((out_file, "stdout"), (err_file, "stderr")):
                if f is not None:
                    f.seek(0)
                    setattr(proc, attr, f.read())
        finally:
            for f in (out_file, err_file):
                if f is not None:
                    f.close()
            if input is not None:
                stdin.close()
        return Result(proc)

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(self.argv(*args), env=self.env(), cwd=self.workdir, **kwargs)

    def bundle(self, args: list[str], mutate: Callable[[dict], Any] | None = None,
               own_rootfs: bool = False) -> Bundle:
        """A bundle running args; own_rootfs copies the rootfs into the bundle ("rootfs",
        relative, like containerd), otherwise the shared rootfs is used by absolute path."""
        cid = f"it{next(_serial)}-{uuid.uuid4().hex[:8]}"
        path = self.workdir / "bundles" / cid
        path.mkdir(parents=True)
        config = copy.deepcopy(self.base_config)
        config["process"]["args"] = args
        config["process"]["terminal"] = False
        config["process"]["env"].append(f"{MARK_VAR}={self.mark}")
        config["linux"]["cgroupsPath"] = f"/{CGROUP_PARENT}/{cid}"
        if own_rootfs:
            subprocess.run(["cp", "-a", str(self.rootfs), str(path / "rootfs")], check=True)
            config["root"]["path"] = "rootfs"
        else:
            config["root"]["path"] = str(self.rootfs)
        if mutate is not None:
            mutate(config)
        b = Bundle(cid, path, config)
        b.save()
        self.bundles.append(b)
        return b

    def state(self, cid: str) -> dict[str, Any]:
        r = self("state", cid)
        assert r.rc == 0, r
        return r.json()

    def status(self, cid: str) -> str | None:
        r = self("state", cid)
        return r.json()["status"] if r.rc == 0 else None

    def wait_status(self, cid: str, wanted: str) -> dict[str, Any]:
        wait_until(lambda: self.status(cid) == wanted, what=f"{cid} to be {wanted}")
        return self.state(cid)

    def assert_nothing_left(self, b: Bundle) -> None:
        assert not os.path.exists(os.path.join(self.root, b.id)), os.listdir(self.root)
        assert cgroup_dirs(b.cgroups_path) == []
        assert marked_pids(self.mark) == []
        assert pids_referencing(str(b.path)) == []
        assert mounts_referencing(str(b.path)) == []

    def cleanup(self) -> None:
        for b in self.bundles:
            pid = 0
            with contextlib.suppress(Exception):
                pid = json.loads((Path(self.root) / b.id / "state.json").read_text())["pid"]
            with contextlib.suppress(Exception):
                subprocess.run(self.argv("delete", "--force", b.id), env=self.env(),
                               capture_output=True, timeout=30)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        for pid in marked_pids(self.mark):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for b in self.bundles:
            remove_cgroup(b.cgroups_path)
        reap_children()
        shutil.rmtree(self.workdir, ignore_errors=True)
