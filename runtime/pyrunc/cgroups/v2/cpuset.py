"""v2 cpuset: cpuset.cpus and cpuset.mems."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    cpu = resources.cpu
    return cpu is not None and bool(cpu.cpus or cpu.mems)


def apply(path: str, resources: Resources) -> None:
    cpu = resources.cpu
    if cpu is None:
        return
    if cpu.cpus:
        fs.write(path, "cpuset.cpus", cpu.cpus)
    if cpu.mems:
        fs.write(path, "cpuset.mems", cpu.mems)


def stats(path: str, out: dict) -> None:
    from pyrunc.cgroups.v1.cpuset import parse_list

    cpus = fs.read_optional(path, "cpuset.cpus.effective")
    if cpus is None:
        return
    out["cpuset"] = {"cpus": parse_list(cpus),
                     "mems": parse_list(fs.read_optional(path, "cpuset.mems.effective"))}
