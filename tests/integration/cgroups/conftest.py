"""Fixtures for cgroup integration tests: unique cgroups that are always cleaned up."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from pyrunc.cgroups import Manager, new_manager
from pyrunc.cgroups.layout import detect

UNIFIED_ROOT = "/sys/fs/cgroup/unified"


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


class CgroupSandbox:
    """Creates managers under a unique top-level name and children processes; tears all down."""

    def __init__(self) -> None:
        self.prefix = f"pyrunc-test-{uuid.uuid4().hex[:10]}"
        self.managers: list[Manager] = []
        self.children: list[subprocess.Popen] = []

    def manager(self, name: str, cgroups_path: str | None = None) -> Manager:
        path = cgroups_path if cgroups_path is not None else f"/{self.prefix}/{name}"
        manager = new_manager(path, name)
        self.managers.append(manager)
        return manager

    def spawn(self, *args: str, **kwargs: object) -> subprocess.Popen:
        child = subprocess.Popen(list(args), **kwargs)  # type: ignore[call-overload]
        self.children.append(child)
        return child

    def python(self, code: str) -> subprocess.Popen:
        return self.spawn(sys.executable, "-S", "-c", code, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)

    def cleanup(self) -> None:
        for child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
            child.wait()
        for manager in self.managers:
            with contextlib.suppress(Exception):
                if manager.freezer_state() != "THAWED":
                    manager.thaw()
            for path in manager.dirs():
                root = next(r for k, r in manager.roots.items() if manager.paths[k] == path)
                for pid in _read(f"{path}/cgroup.procs").split():
                    # Move stragglers out so the directory can be removed.
                    with contextlib.suppress(OSError), open(f"{root}/cgroup.procs",
                                                            "w") as handle:
                        handle.write(pid)
            with contextlib.suppress(Exception):
                manager.destroy()
        layout = detect()
        for mount in {m.mountpoint for m in layout.v1.values()} | (
                {layout.unified.mountpoint} if layout.unified else set()):
            top = f"{mount}/{self.prefix}"
            if os.path.isdir(top):
                for dirpath, _, _ in sorted(os.walk(top), key=lambda e: -len(e[0])):
                    with contextlib.suppress(OSError):
                        os.rmdir(dirpath)


@pytest.fixture
def sandbox() -> Iterator[CgroupSandbox]:
    before = _read(f"{UNIFIED_ROOT}/cgroup.subtree_control").split()
    box = CgroupSandbox()
    try:
        yield box
    finally:
        box.cleanup()
        if "hugetlb" not in before and "hugetlb" in _read(
                f"{UNIFIED_ROOT}/cgroup.subtree_control").split():
            with contextlib.suppress(OSError), open(f"{UNIFIED_ROOT}/cgroup.subtree_control",
                                                    "w") as handle:
                handle.write("-hugetlb")
