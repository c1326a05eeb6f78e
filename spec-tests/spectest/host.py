"""Host-side facts and cleanup: cgroup dirs, mounts, marked processes, subreaper."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Every runtime call and container of the suite carries SPECTEST_MARK=<container id> in its
# environment, so leftovers can be found by id (runc's own `runc init` re-execs with a clean
# environment: those are found through the container's unique cgroup instead).
MARK_ENV = "SPECTEST_MARK"
CGROUP_ROOT = Path("/sys/fs/cgroup")
PR_SET_CHILD_SUBREAPER = 36
NS_TYPES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")


def become_subreaper() -> None:
    """Like containerd's shim and conmon: orphaned container inits are reparented to us."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}")


def last_listed(path: str) -> str:
    """The highest number in a kernel list file ("0-3,5" -> "5"): e.g. a CPU that is online
    (/sys/devices/system/cpu/online), whatever the machine's CPU count."""
    last = Path(path).read_text().strip().split(",")[-1]
    return last.rpartition("-")[2]


def host_namespaces() -> dict[str, str]:
    return {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in NS_TYPES}


def cgroup_dirs(cgroups_path: str) -> list[Path]:
    """Every existing hierarchy dir for cgroupsPath (v1 controllers and cgroup2)."""
    rel = cgroups_path.lstrip("/")
    found = []
    if not CGROUP_ROOT.is_dir():
        return found
    for hierarchy in CGROUP_ROOT.iterdir():
        d = hierarchy / rel
        if d.is_dir():
            found.append(d)
    return found


def remove_cgroup(cgroups_path: str, cid: str) -> None:
    """Kill what is left in the container's own cgroup (unique to this test's container, so
    every process in it was started for it), then rmdir it in every hierarchy."""
    for d in cgroup_dirs(cgroups_path):
        for pid in _cgroup_pids(d):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # The killed processes leave the cgroup asynchronously: rmdir is EBUSY until they have;
        # a generous bound for a loaded machine.
        deadline = time.monotonic() + 30
        while True:
            try:
                d.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)


def _cgroup_pids(d: Path) -> list[int]:
    try:
        return [int(x) for x in (d / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def is_marked(pid: int, cid: str) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{MARK_ENV}={cid}".encode() in environ.split(b"\0")


def marked_processes(cid: str) -> list[int]:
    """Live (non-zombie) processes started for container `cid` (runtime helpers or container)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == os.getpid() or not is_marked(pid, cid):
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            pids.append(pid)
    return pids


def mounts_under(*prefixes: str) -> list[str]:
    """Mount points in our mount namespace at or below any of the prefixes."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        target = line.split()[4].replace("\\040", " ")
        if any(target == p or target.startswith(p.rstrip("/") + "/") for p in prefixes):
            found.append(target)
    return found


def leftovers(root: str, cid: str, cgroups_path: str, *paths: str) -> list[str]:
    """What a failed create left behind: state dir, cgroup dirs, mounts, processes."""
    problems = []
    state_dir = Path(root) / cid
    if state_dir.exists():
        problems.append(f"state dir {state_dir} exists")
    problems += [f"cgroup dir {d} exists" for d in cgroup_dirs(cgroups_path)]
    problems += [f"mount {m} remains" for m in mounts_under(*paths)]
    problems += [f"process {p} remains" for p in marked_processes(cid)]
    return problems


def kill_marked(cid: str) -> None:
    """SIGKILL processes this suite started for container `cid` that are still alive."""
    for pid in marked_processes(cid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def mount_namespace_holder() -> Iterator[str]:
    """A process holding a new mount namespace (a private copy of ours) for a container to
    join by path; yields that path. The holder is killed and reaped afterwards, by pid."""
    holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               "echo ready; exec sleep infinity"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line == b"ready\n", f"mount namespace holder failed to start: {line!r}"
        yield f"/proc/{holder.pid}/ns/mnt"
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
