"""v2 freezer: cgroup.freeze, with cgroup.events ``frozen`` telling when it took effect."""

from __future__ import annotations

import time

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError


def state(path: str) -> str:
    wanted = (fs.read_optional(path, "cgroup.freeze") or "0").strip()
    if wanted != "1":
        return "THAWED"
    frozen = fs.read_keyed(path, "cgroup.events").get("frozen", 0)
    return "FROZEN" if frozen == 1 else "FREEZING"


def _set(path: str, value: str, target: str, attempts: int = 2000) -> None:
    if not fs.exists(path, "cgroup.freeze"):
        raise CgroupError(f"cgroup: freeze {path}: cgroup.freeze does not exist "
                          "(kernel older than 5.2)")
    fs.write(path, "cgroup.freeze", value)
    for attempt in range(attempts):
        if state(path) == target:
            return
        time.sleep(0.001 if attempt < 100 else 0.01)
    raise CgroupError(f"cgroup: {'freeze' if value == '1' else 'thaw'} {path}: "
                      f"not {target} after {attempts} checks")


def freeze(path: str) -> None:
    _set(path, "1", "FROZEN")


def thaw(path: str) -> None:
    _set(path, "0", "THAWED")
