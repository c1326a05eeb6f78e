"""v1 cpuacct controller: usage statistics (nothing to write)."""

from __future__ import annotations

import os

from pyrunc.cgroups import fs

_NANOS_PER_TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _uints(text: str | None) -> list[int]:
    return [int(v) for v in text.split()] if text else []


def stats(path: str, out: dict) -> None:
    usage: dict = {}
    total = fs.read_uint(path, "cpuacct.usage")
    if total:
        usage["total"] = total
    for name, key in (("cpuacct.usage_percpu", "percpu"),
                      ("cpuacct.usage_percpu_sys", "percpu_kernel"),
                      ("cpuacct.usage_percpu_user", "percpu_user")):
        values = _uints(fs.read_optional(path, name))
        if values:
            usage[key] = values
    ticks = fs.read_keyed(path, "cpuacct.stat")
    usage["kernel"] = ticks.get("system", 0) * _NANOS_PER_TICK
    usage["user"] = ticks.get("user", 0) * _NANOS_PER_TICK
    out.setdefault("cpu", {})["usage"] = usage
