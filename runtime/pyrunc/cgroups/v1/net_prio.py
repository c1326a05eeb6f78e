"""v1 net_prio controller: net_prio.ifpriomap, one interface per write."""

from __future__ import annotations

from pyrunc.cgroups import fs


def wants(resources: dict) -> bool:
    return bool((resources.get("network") or {}).get("priorities"))


def apply(path: str, resources: dict) -> None:
    for entry in (resources.get("network") or {}).get("priorities") or ():
        fs.write(path, "net_prio.ifpriomap", f"{entry['name']} {int(entry['priority'])}")
