"""v2 pids: pids.max; current and limit in stats."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.pids and resources.pids.limit)


def apply(path: str, resources: Resources) -> None:
    limit = resources.pids.limit if resources.pids else 0
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
