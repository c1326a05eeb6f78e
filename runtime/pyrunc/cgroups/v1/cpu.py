"""v1 cpu controller: shares, CFS quota/period/burst, idle, realtime runtime/period; throttling."""

from __future__ import annotations

import errno

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources

_KEYS = ("shares", "quota", "period", "realtime_runtime", "realtime_period", "burst", "idle")


def wants(resources: Resources) -> bool:
    cpu = resources.cpu
    return cpu is not None and any(getattr(cpu, key) is not None for key in _KEYS)


def apply(path: str, resources: Resources) -> None:
    cpu = resources.cpu
    if cpu is None:
        return
    # Realtime first: a period change must fit the runtime already granted.
    rt_period, rt_runtime = cpu.realtime_period, cpu.realtime_runtime
    if rt_period:
        fs.write(path, "cpu.rt_period_us", rt_period)
    if rt_runtime:
        fs.write(path, "cpu.rt_runtime_us", rt_runtime)
    shares = cpu.shares
    if shares:
        fs.write(path, "cpu.shares", shares)
        actual = fs.read_uint(path, "cpu.shares")
        if actual != shares:
            bound = "maximum" if shares > actual else "minimum"
            raise CgroupError(f"cgroup: linux.resources.cpu.shares: set cpu.shares {shares} in "
                              f"{path}: the {bound} allowed cpu-shares is {actual}")
    period, quota = cpu.period or 0, cpu.quota or 0
    retry_period = False
    if period:
        try:
            fs.write(path, "cpu.cfs_period_us", period)
        except CgroupError as exc:
            # A smaller period can exceed the parent's quota until the new quota is written.
            if getattr(exc, "errno", None) != errno.EINVAL or not quota:
                raise
            retry_period = True
    if quota:
        fs.write(path, "cpu.cfs_quota_us", quota)
        if retry_period:
            fs.write(path, "cpu.cfs_period_us", period)
    if cpu.burst is not None:
        fs.write(path, "cpu.cfs_burst_us", cpu.burst)
    if cpu.idle is not None:
        fs.write(path, "cpu.idle", cpu.idle)


def stats(path: str, out: dict) -> None:
    stat = fs.read_keyed(path, "cpu.stat")
    throttling = {}
    for src, dst in (("nr_periods", "periods"), ("nr_throttled", "throttledPeriods"),
                     ("throttled_time", "throttledTime")):
        if stat.get(src):
            throttling[dst] = stat[src]
    out.setdefault("cpu", {})["throttling"] = throttling
