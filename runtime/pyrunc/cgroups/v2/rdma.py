"""v2 rdma: rdma.max per device (``mlx5_1 hca_handle=3 hca_object=10000``)."""

from __future__ import annotations

from pyrunc.cgroups import fs


def wants(resources: dict) -> bool:
    return bool(resources.get("rdma"))


def apply(path: str, resources: dict) -> None:
    for device, limits in (resources.get("rdma") or {}).items():
        fields = [device]
        for key, name in (("hcaHandles", "hca_handle"), ("hcaObjects", "hca_object")):
            if limits.get(key) is not None:
                fields.append(f"{name}={int(limits[key])}")
        if len(fields) > 1:
            fs.write(path, "rdma.max", " ".join(fields))
