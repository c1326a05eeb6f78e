"""A container's mounts: its -v, --mount, --tmpfs, --volumes-from and image VOLUME requests
resolved into mount points (docker's MountPoint), the volumes they need, the OCI mounts of
its bundle, and inspect's Mounts and HostConfig fields.

`plan` validates everything before anything is made (a bad request creates no volume);
`realize` then creates the volumes, records the container as their user and seeds new empty
ones from the image (the rootfs is mounted then). Mount points are kept in the container's
record (`config["mounts"]`), where --volumes-from of another container reads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.volumes import mountspec
from pyengine.volumes.model import LOCAL, validate_name, validate_options
from pyengine.volumes.mountspec import BIND, TMPFS, VOLUME, MountSpec

if TYPE_CHECKING:
    from pyengine.containers.model import Container, Spec
    from pyengine.volumes.service import VolumeService


@dataclass
class MountPoint:
    type: str  # bind, volume or tmpfs
    destination: str
    source: str = ""  # bind: the host path; volume: its _data directory
    name: str = ""  # volume
    driver: str = ""
    mode: str = ""  # -v's mode field
    rw: bool = True
    propagation: str = ""
    tmpfs_options: list[str] = field(default_factory=list)
    copy_data: bool = False  # seeded from the image if new and empty

    @classmethod
    def from_dict(cls, raw: Mapping) -> MountPoint:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class Plan:
    specs: list[MountSpec] = field(default_factory=list)  # -v, --mount, --tmpfs
    inherited: list[MountPoint] = field(default_factory=list)  # --volumes-from
    volume_driver: str = ""  # HostConfig.VolumeDriver: the driver of -v's and the image's


def _specs(spec: Spec) -> list[MountSpec]:
    return [*(mountspec.parse_volume(r) for r in spec.binds),
            *(mountspec.parse_mount(r) for r in spec.mounts),
            *(mountspec.parse_tmpfs(r) for r in spec.tmpfs)]


def _no_plugin(name: str, driver: str) -> Exception:
    """docker's error for a volume of a driver it has no plugin for (an anonymous volume
    named as docker names it: a random id)."""
    import secrets

    from pyengine.errors import NotFound

    return NotFound(f"create {name or secrets.token_hex(32)}: error looking up volume plugin "
                    f'{driver}: plugin "{driver}" not found')


def plan(spec: Spec, lookup: Callable[[str], Container]) -> Plan:
    """Parse and validate a container's mount requests (InvalidArgument with docker's text;
    NotFound for a --volumes-from container or a volume driver other than local)."""
    specs = _specs(spec)
    binds = specs[:len(spec.binds)]  # -v's: VolumeDriver's volumes (--mount names its own)
    mountspec.check_duplicates(specs)
    for s in specs:
        if s.type == VOLUME and s.source:
            validate_name(s.source)
        if s.type == VOLUME:
            validate_options(s.source, dict(s.volume_options))
            if s.driver not in ("", LOCAL):
                raise _no_plugin(s.source, s.driver)
            if spec.volume_driver not in ("", LOCAL) and any(s is v for v in binds):
                raise _no_plugin(s.source, spec.volume_driver)
    taken = {s.target for s in specs}
    out = Plan(specs=specs, volume_driver=spec.volume_driver)
    for raw in spec.volumes_from:
        ref, mode = mountspec.parse_volumes_from(raw)
        source = lookup(ref)
        for point in stored_points(source):
            if point.type not in (BIND, VOLUME) or point.destination in taken:
                continue
            taken.add(point.destination)
            out.inherited.append(MountPoint(
                type=point.type, destination=point.destination, source=point.source,
                name=point.name, driver=point.driver,
                rw=point.rw and "ro" not in mode.split(","),
                propagation=point.propagation))
    return out


def stored_points(c: Container) -> list[MountPoint]:
    return [MountPoint.from_dict(raw) for raw in c.config.get("mounts") or []]


def image_volumes(image_config: Mapping) -> list[str]:
    section = image_config.get("config") or {}
    return sorted((section.get("Volumes") or {}).keys())


def realize(p: Plan, image_config: Mapping, cid: str, volumes: VolumeService,
            rootfs: Path) -> list[MountPoint]:
    """Create the volumes, record `cid` as their user and seed the new empty ones from the
    mounted `rootfs`; the mount points. On failure the caller forgets `cid` as a user (and
    its anonymous volumes)."""
    from pyengine.volumes.seed import seed

    points: list[MountPoint] = []
    for s in p.specs:
        if s.type == BIND:
            if s.create_source and not os.path.lexists(s.source):
                os.makedirs(s.source, 0o755, exist_ok=True)  # docker's -v makes it
            points.append(MountPoint(type=BIND, destination=s.target, source=s.source,
                                     mode=s.mode, rw=not s.read_only,
                                     propagation=s.propagation))
        elif s.type == TMPFS:
            points.append(MountPoint(type=TMPFS, destination=s.target, rw=not s.read_only,
                                     tmpfs_options=list(s.tmpfs_options)))
        else:
            points.append(_volume(volumes, cid, s.source, s.target, s.mode, not s.read_only,
                                  dict(s.volume_options), dict(s.volume_labels),
                                  copy_data=not s.nocopy))
    taken = {pt.destination for pt in points}
    for inherited in p.inherited:
        if inherited.type == VOLUME:
            volumes.use(cid, [inherited.name])
        points.append(inherited)
        taken.add(inherited.destination)
    for path in image_volumes(image_config):
        target = mountspec.clean(path)
        if target not in taken:
            if p.volume_driver not in ("", LOCAL):
                raise _no_plugin("", p.volume_driver)
            points.append(_volume(volumes, cid, "", target, "", True, {}, {}, copy_data=True))
            taken.add(target)
    for pt in points:
        if pt.type == VOLUME and pt.copy_data:
            v = volumes.get(pt.name)
            if not v.mounted_by_driver and volumes.driver.is_empty(v.name):
                seed(rootfs, pt.destination, Path(pt.source))
    return points


def _volume(volumes: VolumeService, cid: str, name: str, target: str, mode: str, rw: bool,
            options: dict[str, str], labels: dict[str, str], copy_data: bool) -> MountPoint:
    v = volumes.create(name, LOCAL, options, labels, anonymous=not name)
    volumes.use(cid, [v.name])
    return MountPoint(type=VOLUME, destination=target, source=volumes.mountpoint(v.name),
                      name=v.name, driver=v.driver, mode=mode, rw=rw, copy_data=copy_data)


def oci_mounts(points: Sequence[MountPoint]) -> list[dict]:
    """The bundle's mounts, parents before children (docker sorts them so)."""
    out = []
    for pt in sorted(points, key=lambda p: len([c for c in p.destination.split("/") if c])):
        if pt.type == TMPFS:
            options = mountspec.tmpfs_mount_options(pt.tmpfs_options)
            out.append({"destination": pt.destination, "type": "tmpfs", "source": "tmpfs",
                        "options": options})
            continue
        out.append({"destination": pt.destination, "type": "bind", "source": pt.source,
                    "options": ["rbind", pt.propagation or mountspec.DEFAULT_PROPAGATION,
                                "rw" if pt.rw else "ro"]})
    return out


def inspect_mounts(c: Container) -> list[dict]:
    """inspect's Mounts (docker's shape: --tmpfs mounts are only in HostConfig.Tmpfs)."""
    out = []
    tmpfs_flag = {mountspec.clean(r.partition(":")[0]) for r in c.spec.tmpfs}
    for pt in stored_points(c):
        if pt.type == TMPFS and pt.destination in tmpfs_flag:
            continue
        doc: dict[str, object] = {"Type": pt.type}
        if pt.type == VOLUME:
            doc["Name"] = pt.name
        doc["Source"] = pt.source
        doc["Destination"] = pt.destination
        if pt.type == VOLUME:
            doc["Driver"] = pt.driver
        doc.update({"Mode": pt.mode, "RW": pt.rw, "Propagation": pt.propagation})
        out.append(doc)
    return out


def _mount_doc(raw: str) -> dict[str, object]:
    """HostConfig.Mounts' entry of one --mount (docker's mount.Mount, empty fields left
    out)."""
    s = mountspec.parse_mount(raw, check_source=False)
    doc: dict[str, object] = {"Type": s.type}
    if s.source:
        doc["Source"] = s.source
    doc["Target"] = s.target
    if s.read_only:
        doc["ReadOnly"] = True
    if s.type == BIND and "bind-propagation=" in raw:
        doc["BindOptions"] = {"Propagation": s.propagation}
    if s.type == VOLUME and (s.nocopy or s.volume_options or s.volume_labels or s.driver):
        volume: dict[str, object] = {}
        if s.nocopy:
            volume["NoCopy"] = True
        if s.volume_labels:
            volume["Labels"] = dict(s.volume_labels)
        if s.volume_options or s.driver:
            volume["DriverConfig"] = {"Name": s.driver, "Options": dict(s.volume_options)}
        doc["VolumeOptions"] = volume
    if s.type == TMPFS:
        fields_, _, _ = mountspec.mount_fields(raw)
        tmpfs: dict[str, object] = {}
        if fields_.tmpfs_size:
            tmpfs["SizeBytes"] = fields_.tmpfs_size
        if fields_.tmpfs_mode:
            tmpfs["Mode"] = fields_.tmpfs_mode
        if tmpfs:
            doc["TmpfsOptions"] = tmpfs
    return doc


def host_config(spec: Spec) -> dict[str, object]:
    """inspect's HostConfig.Binds, VolumesFrom, Mounts and Tmpfs."""
    out: dict[str, object] = {"Binds": list(spec.binds) or None,
                              "VolumesFrom": list(spec.volumes_from) or None}
    if spec.mounts:
        out["Mounts"] = [_mount_doc(r) for r in spec.mounts]
    if spec.tmpfs:
        out["Tmpfs"] = {t.partition(":")[0]: t.partition(":")[2] for t in spec.tmpfs}
    return out


def config_volumes(c: Container) -> dict[str, dict] | None:
    """inspect's Config.Volumes: the image's VOLUME paths and the anonymous volumes asked
    (`-v /path`, a create body's Config.Volumes), as docker merges them."""
    paths = [*(c.config.get("image_volumes") or []),
             *(b for b in c.spec.binds if ":" not in b)]
    return {p: {} for p in paths} or None


def stored(points: Sequence[MountPoint]) -> list[dict]:
    return [asdict(p) for p in points]
