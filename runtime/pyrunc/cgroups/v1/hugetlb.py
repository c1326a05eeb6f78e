"""v1 hugetlb controller: hugetlb.<size>.limit_in_bytes; usage, max and failcnt."""

from __future__ import annotations

import os

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.hugepage_limits)


def apply(path: str, resources: Resources) -> None:
    for entry in resources.hugepage_limits or ():
        fs.write(path, f"hugetlb.{entry.page_size}.limit_in_bytes", entry.limit)


def page_sizes() -> list[str]:
    """Huge page sizes this kernel supports, in the cgroup file spelling (``2MB``, ``1GB``)."""
    sizes: list[str] = []
    try:
        names = os.listdir("/sys/kernel/mm/hugepages")
    except OSError:
        return sizes
    for name in sorted(names):
        kib = int(name.removeprefix("hugepages-").removesuffix("kB"))
        for unit, scale in (("GB", 1 << 20), ("MB", 1 << 10), ("KB", 1)):
            if kib % scale == 0:
                sizes.append(f"{kib // scale}{unit}")
                break
    return sizes


def stats(path: str, out: dict) -> None:
    hugetlb: dict = {}
    for size in page_sizes():
        entry: dict = {}
        usage = fs.read_uint(path, f"hugetlb.{size}.usage_in_bytes")
        peak = fs.read_uint(path, f"hugetlb.{size}.max_usage_in_bytes")
        if usage:
            entry["usage"] = usage
        if peak:
            entry["max"] = peak
        entry["failcnt"] = fs.read_uint(path, f"hugetlb.{size}.failcnt")
        hugetlb[size] = entry
    out["hugetlb"] = hugetlb
