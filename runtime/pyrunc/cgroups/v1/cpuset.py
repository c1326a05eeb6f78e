"""v1 cpuset controller: cpus and mems, and parents made usable before a child is created."""

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
    # mems before cpus, as runc does; both must be subsets of the parent's.
    if cpu is None:
        return
    if cpu.mems:
        fs.write(path, "cpuset.mems", cpu.mems)
    if cpu.cpus:
        fs.write(path, "cpuset.cpus", cpu.cpus)


def inherit_from_parent(parent: str, child: str) -> None:
    """A new v1 cpuset starts with empty cpus/mems: copy the parent's so tasks can join."""
    for name in ("cpuset.cpus", "cpuset.mems"):
        if not fs.read(child, name).strip():
            value = fs.read(parent, name).strip()
            if value:
                fs.write(child, name, value)


def parse_list(text: str | None) -> list[int]:
    """``0-2,5`` → [0, 1, 2, 5]."""
    values: list[int] = []
    for part in (text or "").strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        values.extend(range(int(low), int(high or low) + 1))
    return values


def stats(path: str, out: dict) -> None:
    cpuset: dict = {
        "cpus": parse_list(fs.read_optional(path, "cpuset.cpus")),
    }
    for name in ("cpu_exclusive",):
        cpuset[name] = fs.read_uint(path, "cpuset." + name)
    cpuset["mems"] = parse_list(fs.read_optional(path, "cpuset.mems"))
    for name in ("mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                 "memory_spread_slab", "memory_pressure", "sched_load_balance"):
        cpuset[name] = fs.read_uint(path, "cpuset." + name)
    relax = fs.read_optional(path, "cpuset.sched_relax_domain_level")
    cpuset["sched_relax_domain_level"] = int(relax) if relax else 0
    out["cpuset"] = cpuset
