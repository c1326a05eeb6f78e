"""Bundles (a config.json beside a shared rootfs) and containers made from them."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .host import MARK_ENV, is_marked
from .runtime import Runtime, base_env

PROBE = "/probe"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def default_config(rootfs: str, cid: str) -> dict[str, Any]:
    """The suite's baseline: what `runc spec` gives, non-tty, running the probe."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": [PROBE, "all"],
            "env": [f"PATH={DEFAULT_PATH}", "TERM=xterm", f"{MARK_ENV}={cid}"],
            "cwd": "/",
            "capabilities": {s: list(DEFAULT_CAPS) for s in
                             ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": "spectest",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": f"/spectest-{cid}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": list(MASKED),
            "readonlyPaths": list(READONLY),
        },
    }


def namespace_types(config: dict[str, Any]) -> list[str]:
    return [ns["type"] for ns in config["linux"].get("namespaces", [])]


def set_namespace(config: dict[str, Any], ns_type: str, path: str | None = None) -> None:
    """Add (or replace) a namespace entry, optionally joining `path`."""
    entries = [ns for ns in config["linux"]["namespaces"] if ns["type"] != ns_type]
    entry: dict[str, str] = {"type": ns_type}
    if path:
        entry["path"] = path
    entries.append(entry)
    config["linux"]["namespaces"] = entries


def share_runtime_namespaces(config: dict[str, Any]) -> None:
    """No linux.namespaces entry at all: the container shares every namespace of the runtime
    (runtime-spec: a type not listed is inherited). Without a UTS or mount namespace of its
    own it gets no hostname, masked or read-only paths (runc refuses those)."""
    config["linux"]["namespaces"] = []
    config.pop("hostname", None)
    config["linux"]["maskedPaths"] = []
    config["linux"]["readonlyPaths"] = []


def drop_namespace(config: dict[str, Any], ns_type: str) -> None:
    config["linux"]["namespaces"] = [
        ns for ns in config["linux"]["namespaces"] if ns["type"] != ns_type
    ]


@dataclass
class Container:
    """One container id on one runtime, with its bundle directory."""

    rt: Runtime
    id: str
    bundle: Path
    config: dict[str, Any]
    created: bool = False
    reaped: set[int] = field(default_factory=set)
    exit_codes: dict[int, int] = field(default_factory=dict)

    # ---- bundle ----
    def write_config(self) -> None:
        self.bundle.mkdir(parents=True, exist_ok=True)
        (self.bundle / "config.json").write_text(json.dumps(self.config, indent=1))

    def env(self) -> dict[str, str]:
        env = base_env()
        env[MARK_ENV] = self.id
        return env

    # ---- verbs ----
    def cmd(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
        kw.setdefault("env", self.env())
        return self.rt.cmd(*args, **kw)

    def create(self, *extra: str, write: bool = True, **kw: Any
               ) -> subprocess.CompletedProcess[bytes]:
        if write:
            self.write_config()
        self.created = True
        return self.cmd("create", "--bundle", str(self.bundle), *extra, self.id, **kw)

    def run(self, *extra: str, write: bool = True, **kw: Any) -> subprocess.CompletedProcess[bytes]:
        """Foreground `run`: the container's stdout is the runtime's stdout."""
        if write:
            self.write_config()
        self.created = True
        return self.cmd("run", "--bundle", str(self.bundle), *extra, self.id, **kw)

    def start(self) -> subprocess.CompletedProcess[bytes]:
        return self.cmd("start", self.id)

    def state_raw(self) -> subprocess.CompletedProcess[bytes]:
        return self.cmd("state", self.id)

    def state(self) -> dict[str, Any]:
        res = self.state_raw()
        assert res.returncode == 0, f"state {self.id}: rc={res.returncode} {res.stderr!r}"
        return json.loads(res.stdout)

    def kill(self, sig: str = "KILL", *extra: str) -> subprocess.CompletedProcess[bytes]:
        return self.cmd("kill", *extra, self.id, sig)

    def delete(self, force: bool = False) -> subprocess.CompletedProcess[bytes]:
        return self.cmd("delete", *(["--force"] if force else []), self.id)

    def wait_status(self, wanted: str, bound: float = 60.0) -> dict[str, Any]:
        """Poll `state` until status == wanted (reaping the init if it is our child); the bound
        is generous for a loaded machine, not a timing assertion."""
        deadline = time.monotonic() + bound
        while True:
            st = self.state()
            if st.get("status") == wanted:
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.id} never reached {wanted!r}; last state {st}")
            if st.get("pid"):
                self.reap(st["pid"], block=False)
            time.sleep(0.05)

    def run_to_stopped(self) -> int:
        """create + start, wait for ``stopped`` and reap the init; returns its pid."""
        res = self.create()
        assert res.returncode == 0, f"create {self.id}: rc={res.returncode} {res.stderr!r}"
        pid = self.state()["pid"]
        res = self.start()
        assert res.returncode == 0, f"start {self.id}: rc={res.returncode} {res.stderr!r}"
        self.wait_status("stopped")
        self.reap(pid, block=True)
        return pid

    def reap(self, pid: int, block: bool = False) -> int | None:
        """waitpid() the init if it became our child (we are a child subreaper)."""
        if pid in self.reaped:
            return None
        try:
            got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return None
        if got == 0:
            return None
        self.reaped.add(pid)
        code = os.waitstatus_to_exitcode(status)
        self.exit_codes[pid] = code
        return code

    def force_cleanup(self) -> None:
        """delete --force, then make sure its processes are gone and reaped."""
        pid = 0
        try:
            res = self.state_raw()
            if res.returncode == 0:
                pid = int(json.loads(res.stdout).get("pid") or 0)
        except (ValueError, AttributeError, subprocess.TimeoutExpired):
            pid = 0
        try:
            self.cmd("delete", "--force", self.id, timeout=30)
        except subprocess.TimeoutExpired:
            pass  # processes and cgroups are still cleaned up by the caller
        if pid > 0 and pid not in self.reaped:
            if is_marked(pid, self.id):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.reap(pid, block=False)


def clone_config(config: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(config)
