"""Garbage collection: delete blobs and snapshots that no image and no lease references."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyengine.errors import EngineError, NotFound
from pyengine.store import ImageRepository, LeaseRepository

if TYPE_CHECKING:
    from pyengine.content import BlobInfo, ContentStore
    from pyengine.snapshots import Info, Snapshotter

log = logging.getLogger("pyengine.gc")

EXTRACT_PREFIX = "extract-"


@dataclass
class GcResult:
    blobs: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    bytes_freed: int = 0


def referenced_chains(meta: ImageRepository) -> set[str]:
    """Every chain ID some image needs: each image's top layer and all its parents."""
    needed: set[str] = set()
    for image in meta.images():
        chain_id: str | None = image.chain_id
        while chain_id and chain_id not in needed:
            needed.add(chain_id)
            record = meta.layer(chain_id)
            chain_id = record.parent if record else None
    return needed


def unreferenced(
    meta: ImageRepository, leases: LeaseRepository, content: ContentStore,
    snapshotter: Snapshotter,
) -> tuple[list[BlobInfo], list[Info]]:
    """(blob infos, snapshot infos) that a collection would delete right now."""
    keep_blobs = meta.image_blobs() | leases.leased("content")
    blobs = [info for info in content.walk() if str(info.digest) not in keep_blobs]
    keep_snaps = referenced_chains(meta) | leases.leased("snapshot")
    snaps: list[Info] = []
    for info in snapshotter.walk():
        if info.name in keep_snaps:
            continue
        if info.kind == "committed" or info.name.startswith(EXTRACT_PREFIX):
            snaps.append(info)
    return blobs, snaps


def collect(
    meta: ImageRepository, leases: LeaseRepository, content: ContentStore,
    snapshotter: Snapshotter,
) -> GcResult:
    """Delete unreferenced blobs and snapshots (children before parents). Caller excludes
    concurrent transfers."""
    result = GcResult()
    blobs, snaps = unreferenced(meta, leases, content, snapshotter)
    for info in blobs:
        try:
            content.delete(info.digest)
        except NotFound:
            continue
        result.blobs.append(str(info.digest))
        result.bytes_freed += int(info.size)
    pending = {info.name: info for info in snaps}
    while pending:
        parents = {info.parent for info in snapshotter.walk() if info.parent}
        leaves = [name for name in pending if name not in parents]
        if not leaves:
            log.warning("gc: snapshots kept because they still have children: %s", sorted(pending))
            break
        for name in leaves:
            del pending[name]
            size = 0
            record = meta.layer(name)
            if record is not None:
                size = record.size
            try:
                snapshotter.remove(name)
            except NotFound:
                pass
            except EngineError as err:
                log.warning("gc: cannot remove snapshot %s: %s", name, err)
                continue
            meta.delete_layer(name)
            result.snapshots.append(name)
            result.bytes_freed += size
    if result.blobs or result.snapshots:
        log.info(
            "gc: removed %d blobs and %d snapshots, %d bytes",
            len(result.blobs), len(result.snapshots), result.bytes_freed,
        )
    return result
