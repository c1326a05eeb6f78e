"""v1 blkio controller: weights (CFQ ``blkio.*`` or BFQ ``blkio.bfq.*``) and throttles; stats.

Kernel 6.x has no CFQ: ``blkio.weight``/``blkio.leaf_weight`` are absent, the weight goes to
``blkio.bfq.weight`` (present in non-root cgroups). A leaf weight has no BFQ file: like runc, that
is an error naming the missing file.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources, ThrottleDevice

_THROTTLES = (
    ("throttle_read_bps_device", "blkio.throttle.read_bps_device"),
    ("throttle_write_bps_device", "blkio.throttle.write_bps_device"),
    ("throttle_read_iops_device", "blkio.throttle.read_iops_device"),
    ("throttle_write_iops_device", "blkio.throttle.write_iops_device"),
)


def wants(resources: Resources) -> bool:
    blkio = resources.block_io
    return blkio is not None and bool(
        blkio.weight or blkio.leaf_weight or blkio.weight_device
        or any(getattr(blkio, key) for key, _ in _THROTTLES))


def _weight_files(path: str) -> tuple[str, str]:
    if fs.exists(path, "blkio.bfq.weight"):
        return "blkio.bfq.weight", "blkio.bfq.weight_device"
    return "blkio.weight", "blkio.weight_device"


def _write_required(path: str, name: str, value: str | int, what: str) -> None:
    if not fs.exists(path, name):
        raise CgroupError(f"cgroup: set {what}: {path}/{name} does not exist "
                          "(not supported by this kernel's I/O scheduler)")
    fs.write(path, name, value)


def apply(path: str, resources: Resources) -> None:
    blkio = resources.block_io
    if blkio is None:
        return
    weight_file, weight_device_file = _weight_files(path)
    if blkio.weight:
        _write_required(path, weight_file, blkio.weight, "blockIO.weight")
    if blkio.leaf_weight:
        _write_required(path, "blkio.leaf_weight", blkio.leaf_weight, "blockIO.leafWeight")
    for device in blkio.weight_device or ():
        dev = f"{device.major}:{device.minor}"
        if device.weight:
            _write_required(path, weight_device_file, f"{dev} {device.weight}",
                            "blockIO.weightDevice")
        if device.leaf_weight:
            _write_required(path, "blkio.leaf_weight_device", f"{dev} {device.leaf_weight}",
                            "blockIO.weightDevice.leafWeight")
    for key, name in _THROTTLES:
        throttle: list[ThrottleDevice] = getattr(blkio, key) or []
        for t in throttle:
            fs.write(path, name, f"{t.major}:{t.minor} {t.rate}")


def _entries(text: str | None) -> list[dict]:
    entries = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 2 or ":" not in fields[0]:
            continue
        major, _, minor = fields[0].partition(":")
        entry: dict = {"major": int(major), "minor": int(minor)}
        if len(fields) == 3:
            entry["op"] = fields[1]
        value = int(fields[-1])
        if value:
            entry["value"] = value
        entries.append(entry)
    return entries


def stats(path: str, out: dict) -> None:
    blkio: dict = {}
    prefix = "blkio.bfq." if fs.exists(path, "blkio.bfq.io_service_bytes_recursive") \
        else "blkio.throttle."
    for name, key in (("io_service_bytes_recursive", "ioServiceBytesRecursive"),
                      ("io_serviced_recursive", "ioServicedRecursive")):
        entries = _entries(fs.read_optional(path, prefix + name))
        if entries:
            blkio[key] = entries
    out["blkio"] = blkio
