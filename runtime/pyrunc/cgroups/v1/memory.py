"""v1 memory controller: limit, reservation, memory+swap, swappiness, OOM killer; stats.

``kernel`` and ``kernelTCP`` are ignored, as runc 1.1 does ("Kernel memory settings are ignored"):
kernel 6.x no longer enforces memory.kmem.limit_in_bytes.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources

LIMIT = "memory.limit_in_bytes"
SWAP_LIMIT = "memory.memsw.limit_in_bytes"


def wants(resources: Resources) -> bool:
    memory = resources.memory
    return memory is not None and any(
        getattr(memory, key) is not None
        for key in ("limit", "reservation", "swap", "swappiness", "disable_oom_killer"))


def _set_memory_and_swap(path: str, limit: int, swap: int) -> None:
    if limit == -1 and swap == 0 and fs.exists(path, SWAP_LIMIT):
        swap = -1
    if limit and swap:
        if not fs.exists(path, SWAP_LIMIT):
            raise CgroupError(f"cgroup: set memory.swap in {path}: swap accounting is not enabled")
        current = fs.read_uint(path, LIMIT)
        # memsw must stay >= limit at every step: raise memsw first when growing.
        if swap == -1 or current < swap:
            fs.write(path, SWAP_LIMIT, swap)
            fs.write(path, LIMIT, limit)
        else:
            fs.write(path, LIMIT, limit)
            fs.write(path, SWAP_LIMIT, swap)
        return
    if limit:
        fs.write(path, LIMIT, limit)
    if swap:
        if not fs.exists(path, SWAP_LIMIT):
            raise CgroupError(f"cgroup: set memory.swap in {path}: swap accounting is not enabled")
        fs.write(path, SWAP_LIMIT, swap)


def apply(path: str, resources: Resources) -> None:
    memory = resources.memory
    if memory is None:
        return
    _set_memory_and_swap(path, memory.limit or 0, memory.swap or 0)
    if memory.reservation:
        fs.write(path, "memory.soft_limit_in_bytes", memory.reservation)
    if memory.disable_oom_killer:
        fs.write(path, "memory.oom_control", "1")
    swappiness = memory.swappiness
    if swappiness is not None:
        if not 0 <= swappiness <= 100:
            raise CgroupError(f"cgroup: set memory.swappiness: invalid value {swappiness} "
                              "(valid range is 0-100)")
        fs.write(path, "memory.swappiness", swappiness)


def _entry(path: str, prefix: str) -> dict:
    entry = {"limit": fs.read_uint(path, prefix + "limit_in_bytes")}
    usage = fs.read_uint(path, prefix + "usage_in_bytes")
    peak = fs.read_uint(path, prefix + "max_usage_in_bytes")
    if usage:
        entry["usage"] = usage
    if peak:
        entry["max"] = peak
    entry["failcnt"] = fs.read_uint(path, prefix + "failcnt")
    return entry


def stats(path: str, out: dict) -> None:
    raw = fs.read_keyed(path, "memory.stat")
    memory: dict = {}
    if raw.get("cache"):
        memory["cache"] = raw["cache"]
    memory["usage"] = _entry(path, "memory.")
    memory["swap"] = _entry(path, "memory.memsw.")
    memory["kernel"] = _entry(path, "memory.kmem.")
    memory["kernelTCP"] = _entry(path, "memory.kmem.tcp.")
    if raw:
        memory["raw"] = raw
    out["memory"] = memory


def oom_kill_count(path: str) -> int:
    return fs.read_keyed(path, "memory.oom_control").get("oom_kill", 0)
