"""v1 pids controller (the same files as v2's): pids.max; current and limit in stats."""

from __future__ import annotations

from pyrunc.cgroups import fs


def wants(resources: dict) -> bool:
    return bool((resources.get("pids") or {}).get("limit"))


def apply(path: str, resources: dict) -> None:
    limit = int((resources.get("pids") or {}).get("limit") or 0)
    if limit:
        fs.write(path, "pids.max", limit if limit > 0 else "max")


def stats(path: str, out: dict) -> None:
    pids: dict = {}
    current = fs.read_uint(path, "pids.current")
    if current:
        pids["current"] = current
    text = fs.read_optional(path, "pids.max")
    if text and text != "max":
        pids["limit"] = int(text)
    out["pids"] = pids
