"""Engine-level garbage collection: blobs and snapshots no root and no lease references go.

Each domain registers a root source with the `Collector`: the images domain pins every image's
blobs and layer chain; the containers domain (issue 9) will pin each container's image and its
writable snapshot. Leases (any domain's transfer in flight) are roots too. Image uses that a
domain reports (`ImageUse`) are what `rmi` checks before removing an image.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pyengine.errors import EngineError, NotFound
from pyengine.images.locks import SharedExclusiveLock
from pyengine.store import LayerRecord, LeaseRepository

if TYPE_CHECKING:
    from pyengine.content import BlobInfo, ContentStore
    from pyengine.snapshots import Info, Snapshotter

log = logging.getLogger("pyengine.gc")

EXTRACT_PREFIX = "extract-"


@dataclass(frozen=True)
class ImageUse:
    """An image something other than its names keeps alive (a container, later)."""

    image_id: str
    holder: str  # the holder's id, e.g. a container's 64-hex id
    running: bool = False


@dataclass
class Roots:
    """What one domain needs kept."""

    blobs: set[str] = field(default_factory=set)
    snapshots: set[str] = field(default_factory=set)
    images: list[ImageUse] = field(default_factory=list)

    def add(self, other: Roots) -> None:
        self.blobs |= other.blobs
        self.snapshots |= other.snapshots
        self.images += other.images


RootSource = Callable[[], Roots]


class LayerIndex(Protocol):
    """Sizes of committed layers, forgotten when their snapshot goes."""

    def layer(self, chain_id: str) -> LayerRecord | None: ...

    def delete_layer(self, chain_id: str) -> None: ...


@dataclass
class GcResult:
    blobs: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    bytes_freed: int = 0


class Collector:
    """The root registry and the collection itself. Transfers hold `lock` shared; a
    collection holds it exclusive."""

    def __init__(
        self, leases: LeaseRepository, content: ContentStore, snapshotter: Snapshotter,
        layers: LayerIndex,
    ) -> None:
        self.leases = leases
        self.content = content
        self.snapshotter = snapshotter
        self.layers = layers
        self.lock = SharedExclusiveLock()
        self._sources: dict[str, RootSource] = {}
        self._forgetters: dict[str, Callable[[list[str]], None]] = {}
        self._mutex = threading.Lock()

    def register(self, name: str, source: RootSource) -> None:
        """Add a domain's roots (replacing any registered under the same name)."""
        with self._mutex:
            self._sources[name] = source

    def unregister(self, name: str) -> None:
        with self._mutex:
            self._sources.pop(name, None)
            self._forgetters.pop(name, None)

    def on_blobs_deleted(self, name: str, forget: Callable[[list[str]], None]) -> None:
        """Call `forget(digests)` after each collection that deleted blobs (a domain drops
        what it remembers about them); `unregister(name)` removes it."""
        with self._mutex:
            self._forgetters[name] = forget

    def roots(self) -> Roots:
        """Every domain's roots plus the leases'."""
        with self._mutex:
            sources = list(self._sources.values())
        out = Roots(self.leases.leased("content"), self.leases.leased("snapshot"))
        for source in sources:
            out.add(source())
        return out

    def image_users(self, image_id: str) -> list[ImageUse]:
        """Who (besides its names) keeps `image_id`: running holders first."""
        uses = [u for u in self.roots().images if u.image_id == image_id]
        return sorted(uses, key=lambda u: (not u.running, u.holder))

    def recover(self) -> tuple[int, int]:
        """At start-up: drop leases and ingests a crash left; return how many of each."""
        stale = self.leases.all()
        ingests = self.content.ingests()
        cleanup = getattr(self.snapshotter, "cleanup", None)
        if cleanup is not None:
            cleanup()
        for status in ingests:
            self.content.abort(status.ref)
        for lease in stale:
            log.warning(
                "recovering from an interrupted operation",
                extra={"fields": {"lease": lease.id, "purpose": lease.purpose}},
            )
            self.leases.delete(lease.id)
        return len(stale), len(ingests)

    def unreferenced(self) -> tuple[list[BlobInfo], list[Info]]:
        """(blob infos, snapshot infos) that a collection would delete right now."""
        return unreferenced(self.roots(), self.content, self.snapshotter)

    def collect(self) -> GcResult:
        """Take the lock alone and collect."""
        with self.lock.exclusive():
            return self.collect_locked()

    def collect_locked(self) -> GcResult:
        """Collect; the caller holds `lock` exclusive."""
        result = collect(self.roots(), self.content, self.snapshotter, self.layers)
        if result.blobs:
            with self._mutex:
                forgetters = list(self._forgetters.values())
            for forget in forgetters:
                forget(result.blobs)
        return result


def unreferenced(
    roots: Roots, content: ContentStore, snapshotter: Snapshotter
) -> tuple[list[BlobInfo], list[Info]]:
    blobs = [info for info in content.walk() if str(info.digest) not in roots.blobs]
    snaps: list[Info] = []
    for info in snapshotter.walk():
        if info.name in roots.snapshots:
            continue
        if info.kind == "committed" or info.name.startswith(EXTRACT_PREFIX):
            snaps.append(info)
    return blobs, snaps


def collect(
    roots: Roots, content: ContentStore, snapshotter: Snapshotter, layers: LayerIndex
) -> GcResult:
    """Delete unreferenced blobs and snapshots (children before parents)."""
    result = GcResult()
    blobs, snaps = unreferenced(roots, content, snapshotter)
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
            record = layers.layer(name)
            size = record.size if record is not None else 0
            try:
                snapshotter.remove(name)
            except NotFound:
                pass
            except EngineError as err:
                log.warning("gc: cannot remove snapshot %s: %s", name, err)
                continue
            layers.delete_layer(name)
            result.snapshots.append(name)
            result.bytes_freed += size
    if result.blobs or result.snapshots:
        log.info(
            "gc: removed %d blobs and %d snapshots, %d bytes",
            len(result.blobs), len(result.snapshots), result.bytes_freed,
        )
    return result
