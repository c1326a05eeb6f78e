"""v2 cpuset: cpuset.cpus and cpuset.mems."""

from __future__ import annotations

from pyrunc.cgroups import fs


def wants(resources: dict) -> bool:
    cpu = resources.get("cpu") or {}
    return bool(cpu.get("cpus") or cpu.get("mems"))


def apply(path: str, resources: dict) -> None:
    cpu = resources.get("cpu") or {}
    if cpu.get("cpus"):
        fs.write(path, "cpuset.cpus", cpu["cpus"])
    if cpu.get("mems"):
        fs.write(path, "cpuset.mems", cpu["mems"])


def stats(path: str, out: dict) -> None:
    from pyrunc.cgroups.v1.cpuset import parse_list

    cpus = fs.read_optional(path, "cpuset.cpus.effective")
    if cpus is None:
        return
    out["cpuset"] = {"cpus": parse_list(cpus),
                     "mems": parse_list(fs.read_optional(path, "cpuset.mems.effective"))}
