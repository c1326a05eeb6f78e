"""v2 hugetlb: hugetlb.<size>.max; usage, max (peak is not kept by v2) and failcnt."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.hugepage_limits)


def apply(path: str, resources: Resources) -> None:
    for entry in resources.hugepage_limits or ():
        fs.write(path, f"hugetlb.{entry.page_size}.max", entry.limit)


def stats(path: str, out: dict) -> None:
    from pyrunc.cgroups.v1.hugetlb import page_sizes

    hugetlb: dict = {}
    for size in page_sizes():
        if not fs.exists(path, f"hugetlb.{size}.current"):
            continue
        entry: dict = {}
        usage = fs.read_uint(path, f"hugetlb.{size}.current")
        if usage:
            entry["usage"] = usage
        entry["failcnt"] = fs.read_keyed(path, f"hugetlb.{size}.events").get("max", 0)
        hugetlb[size] = entry
    out["hugetlb"] = hugetlb
