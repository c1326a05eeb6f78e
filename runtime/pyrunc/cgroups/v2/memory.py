"""v2 memory: memory.max, memory.low, memory.swap.max; stats from memory.stat/events.

OCI ``swap`` is memory+swap (v1 semantics): memory.swap.max gets ``swap - limit`` (runc's
conversion). ``swappiness``, ``disableOOMKiller`` and ``kernel*`` have no v2 file and are ignored,
as runc does.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    memory = resources.memory
    return memory is not None and bool(memory.limit or memory.reservation or memory.swap)


def _bytes(value: int) -> str:
    return "max" if value == -1 else str(value)


def swap_to_v2(limit: int, swap: int) -> str | None:
    """OCI memory+swap → memory.swap.max; None when unset."""
    if swap == 0:
        return None
    if swap == -1:
        return "max"
    if limit in (0, -1):
        raise CgroupError("cgroup: set memory.swap: unable to set a swap limit without a "
                          "memory limit")
    if swap < limit:
        raise CgroupError(f"cgroup: set memory.swap: memory+swap limit ({swap}) should be "
                          f"bigger than the memory limit ({limit})")
    return str(swap - limit)


def apply(path: str, resources: Resources) -> None:
    memory = resources.memory
    if memory is None:
        return
    limit, swap = memory.limit or 0, memory.swap or 0
    swap_max = swap_to_v2(limit, swap)
    if limit == -1 and swap == 0 and fs.exists(path, "memory.swap.max"):
        swap_max = "max"
    if swap_max is not None:
        if not fs.exists(path, "memory.swap.max"):
            raise CgroupError(f"cgroup: set memory.swap in {path}: swap accounting is not "
                              "enabled (no memory.swap.max)")
        fs.write(path, "memory.swap.max", swap_max)
    if limit:
        fs.write(path, "memory.max", _bytes(limit))
    reservation = memory.reservation or 0
    if reservation:
        fs.write(path, "memory.low", _bytes(reservation))


def stats(path: str, out: dict) -> None:
    raw = fs.read_keyed(path, "memory.stat")
    events = fs.read_keyed(path, "memory.events")
    usage = {"limit": fs.read_uint(path, "memory.max")}
    current = fs.read_uint(path, "memory.current")
    if current:
        usage["usage"] = current
    peak = fs.read_uint(path, "memory.peak")
    if peak:
        usage["max"] = peak
    usage["failcnt"] = events.get("max", 0)
    memory: dict = {}
    if raw.get("file"):
        memory["cache"] = raw["file"]
    memory["usage"] = usage
    if fs.exists(path, "memory.swap.current"):
        # runc reports memory+swap, as v1 does.
        swap_limit = fs.read_uint(path, "memory.swap.max")
        limit = usage["limit"]
        unlimited = fs.MAX_UINT64 in (swap_limit, limit)
        swap = {"limit": fs.MAX_UINT64 if unlimited else swap_limit + limit}
        swap_usage = fs.read_uint(path, "memory.swap.current") + current
        if swap_usage:
            swap["usage"] = swap_usage
        swap["failcnt"] = fs.read_keyed(path, "memory.swap.events").get("max", 0)
        memory["swap"] = swap
    if raw:
        memory["raw"] = raw
    out["memory"] = memory


def oom_kill_count(path: str) -> int:
    return fs.read_keyed(path, "memory.events").get("oom_kill", 0)
