"""v1 net_cls controller: net_cls.classid."""

from __future__ import annotations

from pyrunc.cgroups import fs


def wants(resources: dict) -> bool:
    return bool((resources.get("network") or {}).get("classID"))


def apply(path: str, resources: dict) -> None:
    classid = (resources.get("network") or {}).get("classID")
    if classid:
        fs.write(path, "net_cls.classid", int(classid))
