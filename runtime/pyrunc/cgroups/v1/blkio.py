"""v1 blkio controller: weights (CFQ ``blkio.*`` or BFQ ``blkio.bfq.*``) and throttles; stats.

Kernel 6.x has no CFQ: ``blkio.weight``/``blkio.leaf_weight`` are absent, the weight goes to
``blkio.bfq.weight`` (present in non-root cgroups). A leaf weight has no BFQ file: like runc, that
is an error naming the missing file.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

_THROTTLES = (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"),
)


def wants(resources: dict) -> bool:
    blkio = resources.get("blockIO") or {}
    return bool(blkio.get("weight") or blkio.get("leafWeight") or blkio.get("weightDevice")
                or any(blkio.get(key) for key, _ in _THROTTLES))


def _weight_files(path: str) -> tuple[str, str]:
    if fs.exists(path, "blkio.bfq.weight"):
        return "blkio.bfq.weight", "blkio.bfq.weight_device"
    return "blkio.weight", "blkio.weight_device"


def _write_required(path: str, name: str, value: str | int, what: str) -> None:
    if not fs.exists(path, name):
        raise CgroupError(f"cgroup: set {what}: {path}/{name} does not exist "
                          "(not supported by this kernel's I/O scheduler)")
    fs.write(path, name, value)


def apply(path: str, resources: dict) -> None:
    blkio = resources.get("blockIO") or {}
    weight_file, weight_device_file = _weight_files(path)
    if blkio.get("weight"):
        _write_required(path, weight_file, int(blkio["weight"]), "blockIO.weight")
    if blkio.get("leafWeight"):
        _write_required(path, "blkio.leaf_weight", int(blkio["leafWeight"]), "blockIO.leafWeight")
    for device in blkio.get("weightDevice") or ():
        dev = f"{device['major']}:{device['minor']}"
        if device.get("weight"):
            _write_required(path, weight_device_file, f"{dev} {device['weight']}",
                            "blockIO.weightDevice")
        if device.get("leafWeight"):
            _write_required(path, "blkio.leaf_weight_device", f"{dev} {device['leafWeight']}",
                            "blockIO.weightDevice.leafWeight")
    for key, name in _THROTTLES:
        for device in blkio.get(key) or ():
            fs.write(path, name, f"{device['major']}:{device['minor']} {device['rate']}")


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
