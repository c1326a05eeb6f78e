"""Our shim's Stats on the kernel's own cgroup files: a process that used some CPU, in a cgroup
of each hierarchy this host has (v1 controllers, and the unified one: at /sys/fs/cgroup on a v2
host, at /sys/fs/cgroup/unified on a hybrid one), read back through cgstats.metrics_of."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.shim import cgstats
from pyengine.shim.api import cgroups_v1_pb2, cgroups_v2_pb2

pytestmark = pytest.mark.root

ROOT = Path("/sys/fs/cgroup")
BUSY = "read go; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; read end"


@pytest.fixture
def busy() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(["sh", "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _work(proc: subprocess.Popen) -> None:
    """Let the process use CPU in its cgroups; back once it has."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "done\n"


@contextlib.contextmanager
def _cgroups(paths: list[Path], proc: subprocess.Popen) -> Iterator[None]:
    """`proc` in new cgroups at `paths`; it is killed and the cgroups removed after."""
    made = []
    try:
        for path in paths:
            path.mkdir()
            made.append(path)
            (path / "cgroup.procs").write_text(str(proc.pid))
        yield
    finally:
        proc.kill()
        proc.wait()
        for path in reversed(made):
            path.rmdir()


def test_the_host_mode_is_seen() -> None:
    assert cgstats.unified(str(ROOT)) == (ROOT / "cgroup.controllers").exists()
    assert cgstats.unified(str(ROOT)) or (ROOT / "memory").is_dir()


def test_v1_files_of_a_real_cgroup(busy: subprocess.Popen) -> None:
    if cgstats.unified(str(ROOT)):  # a unified host has no v1 hierarchy to read
        assert not (ROOT / "memory" / "memory.usage_in_bytes").exists()
        return
    name = f"pyops-cgstats-{os.getpid()}"
    cpuacct = "cpu,cpuacct" if (ROOT / "cpu,cpuacct").is_dir() else "cpuacct"
    paths = [ROOT / c / name for c in ("memory", "pids", cpuacct)]
    with _cgroups(paths, busy):
        (paths[0] / "memory.limit_in_bytes").write_text(str(64 << 20))
        (paths[1] / "pids.max").write_text("7")
        _work(busy)
        found = cgstats.metrics_of(busy.pid)
        assert found.type_url == cgstats.V1_URL
        m = cgroups_v1_pb2.Metrics()
        m.ParseFromString(found.value)
        assert (m.pids.current, m.pids.limit) == (1, 7)
        assert m.memory.usage.limit == 64 << 20 and m.memory.usage.usage > 0
        assert m.cpu.usage.total > 0 and sum(m.cpu.usage.per_cpu) > 0


def test_v2_files_of_a_real_cgroup(busy: subprocess.Popen) -> None:
    root = ROOT if cgstats.unified(str(ROOT)) else ROOT / "unified"
    if not cgstats.unified(str(root)):  # a v1-only host: no unified hierarchy at all
        assert not (root / "cgroup.controllers").exists()
        return
    cgroup = root / f"pyops-cgstats-{os.getpid()}"
    with _cgroups([cgroup], busy):
        _work(busy)
        found = cgstats.metrics_of(busy.pid, root=str(root))
        assert found.type_url == cgstats.V2_URL
        m = cgroups_v2_pb2.Metrics()
        m.ParseFromString(found.value)
        assert m.cpu.usage_usec > 0 and m.cpu.usage_usec >= m.cpu.user_usec
        enabled = (root / "cgroup.subtree_control").read_text().split()
        if "pids" in enabled:
            assert m.pids.current == 1
        if "memory" in enabled:
            assert m.memory.usage > 0
