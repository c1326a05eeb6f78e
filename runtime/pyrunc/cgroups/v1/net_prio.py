"""v1 net_prio controller: net_prio.ifpriomap, one interface per write."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.network and resources.network.priorities)


def apply(path: str, resources: Resources) -> None:
    for entry in (resources.network.priorities if resources.network else None) or ():
        fs.write(path, "net_prio.ifpriomap", f"{entry.name} {entry.priority}")
