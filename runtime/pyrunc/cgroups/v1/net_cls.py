"""v1 net_cls controller: net_cls.classid."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.network and resources.network.class_id)


def apply(path: str, resources: Resources) -> None:
    classid = resources.network.class_id if resources.network else None
    if classid:
        fs.write(path, "net_cls.classid", classid)
