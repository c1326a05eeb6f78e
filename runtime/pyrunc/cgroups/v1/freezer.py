"""v1 freezer controller: freezer.state FROZEN / THAWED."""

from __future__ import annotations

import time

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError


def state(path: str) -> str:
    return fs.read(path, "freezer.state").strip()


def freeze(path: str, attempts: int = 1000) -> None:
    """Freeze and wait until the kernel reports FROZEN (it passes through FREEZING)."""
    for attempt in range(attempts):
        # Writing again nudges a freeze stuck behind a task in an uninterruptible sleep.
        if attempt % 25 == 0:
            fs.write(path, "freezer.state", "FROZEN")
        if state(path) == "FROZEN":
            return
        time.sleep(0.001 if attempt < 50 else 0.01)
    fs.write(path, "freezer.state", "THAWED")
    raise CgroupError(f"cgroup: freeze {path}: still FREEZING after {attempts} checks")


def thaw(path: str) -> None:
    fs.write(path, "freezer.state", "THAWED")
    for _ in range(1000):
        if state(path) == "THAWED":
            return
        time.sleep(0.001)
