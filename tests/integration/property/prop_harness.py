"""Run one config.json through a runtime for real and check what it leaves behind.

Every command has a bounded timeout; on expiry the runtime's whole session is SIGKILLed and the
example fails. Cleanup (delete --force with every runtime that saw the id, SIGKILL of marked
processes and of whatever sits in the container's cgroups, rmdir of those cgroups by path,
lazy unmount of mounts under the bundle) runs pass or fail. cgroupsPaths longer than PATH_MAX
are walked component by component with directory fds.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_TESTS = Path(__file__).resolve().parents[3] / "spec-tests"
RUNTIME_ITESTS = Path(__file__).resolve().parents[1] / "runtime"
for _helpers in (SPEC_TESTS, RUNTIME_ITESTS):  # spectest, and pyrunc_itest's reap_children
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))

from pyrunc_itest import reap_children  # noqa: E402
from spectest.bundle import default_config  # noqa: E402
from spectest.host import MARK_ENV, marked_processes  # noqa: E402
from spectest.runtime import Runtime, base_env  # noqa: E402

CGROUP_ROOT = "/sys/fs/cgroup"
# A safety net against hangs, generous for a loaded 2-core VM; never a timing assertion.
COMMAND_TIMEOUT = float(os.environ.get("PROP_COMMAND_TIMEOUT", "60"))
TRACEBACK = b"Traceback (most recent call last)"
_serial = itertools.count(1)


class Deep:
    """A value nested `depth` levels deep, written textually (json.dumps would recurse)."""

    def __init__(self, depth: int, kind: str = "array") -> None:
        self.depth = depth
        self.kind = kind

    def text(self) -> str:
        if self.kind == "array":
            return "[" * self.depth + "]" * self.depth
        return '{"a":' * self.depth + "{}" + "}" * self.depth

    def __repr__(self) -> str:
        return f"<{self.depth} nested {self.kind}s>"


def dump_config(config: Any) -> str:
    """config.json text; Deep values are spliced in as text."""
    deeps: dict[str, Deep] = {}

    def default(obj: Any) -> Any:
        if isinstance(obj, Deep):
            token = f"@@deep{len(deeps)}-{uuid.uuid4().hex}@@"
            deeps[token] = obj
            return token
        raise TypeError(f"cannot serialise {obj!r}")

    text = json.dumps(config, default=default, ensure_ascii=True)
    for token, deep in deeps.items():
        text = text.replace(json.dumps(token), deep.text())
    return text


@dataclass
class Outcome:
    """One runtime command: exit status (None on timeout), stdout, stderr."""

    argv: list[str]
    rc: int | None
    out: bytes
    err: bytes

    @property
    def timed_out(self) -> bool:
        return self.rc is None

    @property
    def message(self) -> str:
        """stderr as text, logfmt quoting undone so paths like a["b"] match."""
        return self.err.decode(errors="replace").replace('\\"', '"').replace("\\\\", "\\")

    def __str__(self) -> str:
        return (f"{' '.join(self.argv[-3:])}: rc={self.rc} stderr={self.err[-1500:]!r} "
                f"stdout={self.out[-300:]!r}")


def run(rt: Runtime, args: list[str], cid: str, timeout: float = COMMAND_TIMEOUT,
        stdout: Any = None) -> Outcome:
    """One runtime command in its own session; its output to files (a created container keeps
    the runtime's stdio open)."""
    argv = rt.argv(*args)
    env = base_env()
    env[MARK_ENV] = cid
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=stdout if stdout is not None else out, stderr=err,
                                env=env, start_new_session=True)
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
        out.seek(0)
        err.seek(0)
        return Outcome(argv, rc, out.read(), err.read())


# -- cgroups by path (PATH_MAX-safe) -------------------------------------------------------
def _components(cgroups_path: str) -> list[str]:
    """The path's components up to the first one no directory can be named (a NUL)."""
    parts = []
    for c in cgroups_path.split("/"):
        try:
            os.fsencode(c)
        except UnicodeEncodeError:
            break
        if "\x00" in c:
            break
        if c and c != ".":
            parts.append(c)
    return parts


def _open_cgroup(hierarchy: str, parts: list[str]) -> int | None:
    """An O_PATH|O_DIRECTORY fd of hierarchy/parts..., or None when some component is missing."""
    fd = os.open(hierarchy, os.O_PATH | os.O_DIRECTORY)
    for part in parts:
        if part == "..":
            os.close(fd)
            return None
        try:
            nfd = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = nfd
    return fd


def hierarchies() -> list[str]:
    return [os.path.join(CGROUP_ROOT, h) for h in sorted(os.listdir(CGROUP_ROOT))
            if os.path.isdir(os.path.join(CGROUP_ROOT, h))
            and not os.path.islink(os.path.join(CGROUP_ROOT, h))]


def cgroup_dirs(cgroups_path: str) -> list[str]:
    """Hierarchies (v1 controllers and cgroup2) holding a dir for cgroupsPath; for a path with a
    component cgroupfs cannot hold, the longest existing prefix below our unique first one."""
    parts = _components(cgroups_path)
    found = []
    for h in hierarchies():
        for n in range(len(parts), 0, -1):
            fd = _open_cgroup(h, parts[:n])
            if fd is not None:
                os.close(fd)
                found.append(f"{h}/{'/'.join(parts[:n])}")
                break
    return found


def _procs_under(dir_fd: int) -> list[int]:
    pids: list[int] = []
    try:
        fd = os.open("cgroup.procs", os.O_RDONLY, dir_fd=dir_fd)
    except OSError:
        return pids
    with os.fdopen(fd) as f:
        pids += [int(p) for p in f.read().split()]
    for name in _subdirs(dir_fd):
        sub = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            pids += _procs_under(sub)
        finally:
            os.close(sub)
    return pids


def _subdirs(dir_fd: int) -> list[str]:
    rfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
    try:
        return [e.name for e in os.scandir(rfd) if e.is_dir(follow_symlinks=False)]
    finally:
        os.close(rfd)


def cgroup_pids(cgroups_path: str) -> list[int]:
    """Processes in the container's cgroups (and below) in any hierarchy."""
    parts = _components(cgroups_path)
    pids: set[int] = set()
    for h in hierarchies():
        for n in range(len(parts), 0, -1):
            fd = _open_cgroup(h, parts[:n])
            if fd is None:
                continue
            try:
                pids.update(_procs_under(fd))
            finally:
                os.close(fd)
            break
    return sorted(pids)


def _rmdir_tree(dir_fd: int, name: str) -> None:
    fd = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        for sub in _subdirs(fd):
            _rmdir_tree(fd, sub)
    finally:
        os.close(fd)
    for _ in range(100):
        try:
            os.rmdir(name, dir_fd=dir_fd)
            return
        except FileNotFoundError:
            return
        except OSError as err:
            if err.errno != errno.EBUSY:
                return
            time.sleep(0.02)


def remove_cgroups(cgroups_path: str) -> None:
    """SIGKILL what is in the container's cgroups, then rmdir them (deepest first) down to the
    path's first component, which is unique to the example."""
    for pid in cgroup_pids(cgroups_path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    parts = _components(cgroups_path)
    if not parts or parts[0] in ("..", "."):
        return
    for h in hierarchies():
        fd = os.open(h, os.O_PATH | os.O_DIRECTORY)
        try:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError, ValueError):
                _rmdir_tree(fd, parts[0])
        finally:
            os.close(fd)


# -- mounts --------------------------------------------------------------------------------
def mount_lines() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.rstrip("\n") for line in f}


def new_mounts(before: set[str], *needles: str) -> list[str]:
    """Mounts added since `before` that mention one of needles (our bundle, rootfs or id):
    other tests on this machine mount things meanwhile."""
    return sorted(line for line in mount_lines() - before if any(n in line for n in needles))


def unmount_under(*prefixes: str) -> None:
    for line in sorted(mount_lines(), key=lambda s: -len(s.split()[4])):
        target = line.split()[4].replace("\\040", " ")
        if any(target == p or target.startswith(p.rstrip("/") + "/") for p in prefixes):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)


# -- one example ---------------------------------------------------------------------------
@dataclass
class Env:
    """What examples share: the session dir, the rootfs variants and the two runtimes."""

    workdir: Path
    rootfs: str
    pyrunc: Runtime
    runc: Runtime
    rootfs_variants: dict[str, str] = field(default_factory=dict)


@dataclass
class Case:
    """One container id and bundle; cleanup() undoes everything any runtime made for it."""

    env: Env
    id: str
    bundle: Path
    config: dict[str, Any]
    mounts_before: set[str] = field(default_factory=set)
    runtimes: list[Runtime] = field(default_factory=list)
    inits: set[int] = field(default_factory=set)

    @classmethod
    def new(cls, env: Env, config: dict[str, Any] | None = None) -> Case:
        cid = f"prop{next(_serial)}-{uuid.uuid4().hex[:10]}"
        bundle = env.workdir / "bundles" / cid
        bundle.mkdir(parents=True)
        if config is None:
            config = default_config(env.rootfs, cid)
            config["linux"]["cgroupsPath"] = f"/proptest-{cid}"
            config["process"]["args"] = ["/probe", "exit", "0"]
        return cls(env, cid, bundle, config)

    @property
    def cgroups_path(self) -> str:
        linux = self.config.get("linux") if isinstance(self.config, dict) else None
        cg = linux.get("cgroupsPath") if isinstance(linux, dict) else None
        return cg if isinstance(cg, str) and cg else f"/{self.id}"

    def cgroup_candidates(self) -> list[str]:
        """Where the container's cgroups may be: the configured path, runc's default (/<id>,
        for an empty or unusable one) and ours. Only paths whose first component holds the id
        are ever checked or removed: nothing outside this example is touched."""
        found = []
        for path in (self.cgroups_path, f"/{self.id}", f"/proptest-{self.id}"):
            parts = _components(path)
            if parts and self.id in parts[0] and path not in found:
                found.append(path)
        return found

    def write(self, text: str | None = None) -> None:
        (self.bundle / "config.json").write_text(
            text if text is not None else dump_config(self.config), errors="surrogatepass")

    def cmd(self, rt: Runtime, *args: str, stdout: Any = None,
            timeout: float = COMMAND_TIMEOUT) -> Outcome:
        if rt not in self.runtimes:
            self.runtimes.append(rt)
        return run(rt, list(args), self.id, timeout=timeout, stdout=stdout)

    def create(self, rt: Runtime, stdout: Any = None) -> Outcome:
        self.mounts_before = self.mounts_before or mount_lines()
        res = self.cmd(rt, "create", "--bundle", str(self.bundle), self.id, stdout=stdout)
        if res.rc == 0:
            pid = self.pid(rt)
            if pid:
                self.inits.add(pid)
        return res

    def run_foreground(self, rt: Runtime) -> Outcome:
        self.mounts_before = self.mounts_before or mount_lines()
        return self.cmd(rt, "run", "--bundle", str(self.bundle), self.id)

    def state(self, rt: Runtime) -> dict[str, Any] | None:
        res = self.cmd(rt, "state", self.id)
        if res.rc != 0:
            return None
        try:
            data = json.loads(res.out)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def pid(self, rt: Runtime) -> int:
        st = self.state(rt)
        return int(st.get("pid") or 0) if st else 0

    def leftovers(self, rt: Runtime) -> list[str]:
        """What a refused (or deleted) container left: state dir, cgroups, processes, mounts."""
        problems = []
        state_dir = Path(rt.root) / self.id
        if os.path.lexists(state_dir):
            problems.append(f"state dir {state_dir} exists")
        for path in self.cgroup_candidates():
            problems += [f"cgroup dir {d} exists" for d in cgroup_dirs(path)]
            problems += [f"process {p} in the container's cgroup" for p in cgroup_pids(path)]
        problems += [f"process {p} carries the container's mark"
                     for p in marked_processes(self.id)]
        problems += [f"mount left: {m}" for m in new_mounts(
            self.mounts_before, str(self.bundle), self.env.rootfs, self.id,
            *self.env.rootfs_variants.values())]
        return problems

    def wait_stopped(self, rt: Runtime, pid: int) -> int | None:
        """Reap the init (our child: we are a subreaper) and return its exit code."""
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while time.monotonic() < deadline:
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                st = self.state(rt)
                if not st or st.get("status") == "stopped":
                    return None
                time.sleep(0.02)
                continue
            if got:
                self.inits.discard(pid)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        raise AssertionError(f"{self.id}: init {pid} still running after {COMMAND_TIMEOUT}s")

    def cleanup(self) -> None:
        for rt in self.runtimes:
            with contextlib.suppress(Exception):
                run(rt, ["delete", "--force", self.id], self.id, timeout=30)
        for pid in marked_processes(self.id):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for path in self.cgroup_candidates():
            with contextlib.suppress(OSError):
                remove_cgroups(path)
        for pid in list(self.inits):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        unmount_under(str(self.bundle))
        for rt in self.runtimes:
            state_dir = Path(rt.root) / self.id
            if state_dir.is_dir():
                shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(self.bundle, ignore_errors=True)
        reap_children()
