"""v1 cpu controller: shares, CFS quota/period/burst, idle, realtime runtime/period; throttling."""

from __future__ import annotations

import errno

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

_KEYS = ("shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "burst", "idle")


def wants(resources: dict) -> bool:
    cpu = resources.get("cpu") or {}
    return any(cpu.get(key) is not None for key in _KEYS)


def apply(path: str, resources: dict) -> None:
    cpu = resources.get("cpu") or {}
    # Realtime first: a period change must fit the runtime already granted.
    rt_period, rt_runtime = cpu.get("realtimePeriod"), cpu.get("realtimeRuntime")
    if rt_period:
        fs.write(path, "cpu.rt_period_us", int(rt_period))
    if rt_runtime:
        fs.write(path, "cpu.rt_runtime_us", int(rt_runtime))
    shares = cpu.get("shares")
    if shares:
        fs.write(path, "cpu.shares", int(shares))
        actual = fs.read_uint(path, "cpu.shares")
        if actual != int(shares):
            bound = "maximum" if int(shares) > actual else "minimum"
            raise CgroupError(f"cgroup: set cpu.shares {shares} in {path}: the {bound} allowed "
                              f"cpu-shares is {actual}")
    period, quota = int(cpu.get("period") or 0), int(cpu.get("quota") or 0)
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
    burst = cpu.get("burst")
    if burst is not None:
        fs.write(path, "cpu.cfs_burst_us", int(burst))
    idle = cpu.get("idle")
    if idle is not None:
        fs.write(path, "cpu.idle", int(idle))


def stats(path: str, out: dict) -> None:
    stat = fs.read_keyed(path, "cpu.stat")
    throttling = {}
    for src, dst in (("nr_periods", "periods"), ("nr_throttled", "throttledPeriods"),
                     ("throttled_time", "throttledTime")):
        if stat.get(src):
            throttling[dst] = stat[src]
    out.setdefault("cpu", {})["throttling"] = throttling
