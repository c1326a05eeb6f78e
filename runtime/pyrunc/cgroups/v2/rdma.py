"""v2 rdma: rdma.max per device (``mlx5_1 hca_handle=3 hca_object=10000``)."""

from __future__ import annotations

from pyrunc.cgroups import fs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.rdma)


def apply(path: str, resources: Resources) -> None:
    for device, limits in (resources.rdma or {}).items():
        fields = [device]
        for value, name in ((limits.hca_handles, "hca_handle"), (limits.hca_objects, "hca_object")):
            if value is not None:
                fields.append(f"{name}={value}")
        if len(fields) > 1:
            fs.write(path, "rdma.max", " ".join(fields))
