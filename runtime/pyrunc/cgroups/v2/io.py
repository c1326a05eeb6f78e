"""v2 io: weights (io.bfq.weight when BFQ is there, else io.weight) and io.max throttles.

A leaf weight does not exist on v2: setting one is an error, and so is a weight (or a device
weight) where neither weight file exists, naming both files.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources, ThrottleDevice

_THROTTLES = (
    ("throttle_read_bps_device", "rbps"),
    ("throttle_write_bps_device", "wbps"),
    ("throttle_read_iops_device", "riops"),
    ("throttle_write_iops_device", "wiops"),
)


def wants(resources: Resources) -> bool:
    blkio = resources.block_io
    return blkio is not None and bool(
        blkio.weight or blkio.leaf_weight or blkio.weight_device
        or any(getattr(blkio, key) for key, _ in _THROTTLES))


def blkio_to_io_weight(weight: int) -> int:
    """runc's conversion of a v1 blkio weight [10, 1000] to io.weight [1, 10000]."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def apply(path: str, resources: Resources) -> None:
    blkio = resources.block_io
    if blkio is None:
        return
    if blkio.leaf_weight or any(d.leaf_weight for d in blkio.weight_device or ()):
        raise CgroupError("cgroup: set blockIO.leafWeight: not supported on cgroup v2")
    # io.bfq.weight exists while bfq is registered; io.weight with blk-iocost (any scheduler).
    bfq = fs.exists(path, "io.bfq.weight")
    weight = blkio.weight or 0
    devices = [d for d in blkio.weight_device or () if d.weight]
    if (weight or devices) and not bfq and not fs.exists(path, "io.weight"):
        raise CgroupError(f"cgroup: set blockIO.weight in {path}: neither io.bfq.weight nor "
                          "io.weight exists (the kernel has neither bfq nor blk-iocost)")
    name = "io.bfq.weight" if bfq else "io.weight"
    if weight:
        fs.write(path, name, weight if bfq else blkio_to_io_weight(weight))
    for device in devices:
        device_weight = device.weight or 0
        value = device_weight if bfq else blkio_to_io_weight(device_weight)
        fs.write(path, name, f"{device.major}:{device.minor} {value}")
    for key, field in _THROTTLES:
        throttle: list[ThrottleDevice] = getattr(blkio, key) or []
        for t in throttle:
            fs.write(path, "io.max", f"{t.major}:{t.minor} {field}={t.rate if t.rate else 'max'}")


def stats(path: str, out: dict) -> None:
    text = fs.read_optional(path, "io.stat")
    service_bytes: list[dict[str, object]] = []
    serviced: list[dict[str, object]] = []
    for line in (text or "").splitlines():
        fields = line.split()
        if not fields or ":" not in fields[0]:
            continue
        major, _, minor = fields[0].partition(":")
        values = dict(field.split("=", 1) for field in fields[1:] if "=" in field)
        for bucket, (read_key, write_key) in ((service_bytes, ("rbytes", "wbytes")),
                                             (serviced, ("rios", "wios"))):
            for op, key in (("Read", read_key), ("Write", write_key)):
                entry = {"major": int(major), "minor": int(minor), "op": op}
                value = int(values.get(key, 0))
                if value:
                    entry["value"] = value
                bucket.append(entry)
    blkio = {}
    if service_bytes:
        blkio["ioServiceBytesRecursive"] = service_bytes
    if serviced:
        blkio["ioServicedRecursive"] = serviced
    out["blkio"] = blkio
