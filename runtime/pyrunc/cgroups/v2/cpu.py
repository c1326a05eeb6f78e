"""v2 cpu: cpu.weight (from OCI shares), cpu.max, cpu.max.burst, cpu.idle; stats from cpu.stat.

Realtime runtime/period have no v2 interface: setting them is an error (as in runc).
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    cpu = resources.cpu
    return cpu is not None and any(
        getattr(cpu, key) is not None for key in
        ("shares", "quota", "period", "burst", "idle", "realtime_runtime", "realtime_period"))


def shares_to_weight(shares: int) -> int:
    """OCI/runc conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def weight_to_shares(weight: int) -> int:
    """The inverse mapping (for reports)."""
    if weight == 0:
        return 0
    return 2 + ((weight - 1) * 262142) // 9999


def apply(path: str, resources: Resources) -> None:
    cpu = resources.cpu
    if cpu is None:
        return
    if cpu.realtime_runtime or cpu.realtime_period:
        raise CgroupError("cgroup: set cpu.realtimeRuntime/realtimePeriod: not supported on "
                          "cgroup v2")
    shares = cpu.shares or 0
    if shares:
        fs.write(path, "cpu.weight", shares_to_weight(shares))
    quota, period = cpu.quota or 0, cpu.period or 0
    if quota or period:
        if not quota:
            # Only the period changes (pyrunc update --cpu-period): keep the current quota.
            current = (fs.read_optional(path, "cpu.max") or "max").split()[0]
            quota = -1 if current == "max" else int(current)
        text = str(quota) if quota > 0 else "max"
        if period:
            text += f" {period}"
        fs.write(path, "cpu.max", text)
    if cpu.burst is not None:
        fs.write(path, "cpu.max.burst", cpu.burst)
    if cpu.idle is not None:
        fs.write(path, "cpu.idle", cpu.idle)


def stats(path: str, out: dict) -> None:
    stat = fs.read_keyed(path, "cpu.stat")
    usage: dict = {}
    if stat.get("usage_usec"):
        usage["total"] = stat["usage_usec"] * 1000
    usage["kernel"] = stat.get("system_usec", 0) * 1000
    usage["user"] = stat.get("user_usec", 0) * 1000
    throttling = {}
    for src, dst, scale in (("nr_periods", "periods", 1),
                            ("nr_throttled", "throttledPeriods", 1),
                            ("throttled_usec", "throttledTime", 1000)):
        if stat.get(src):
            throttling[dst] = stat[src] * scale
    out["cpu"] = {"usage": usage, "throttling": throttling}
