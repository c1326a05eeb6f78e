"""The composition root: the engine's shared stores and its domains, opened, recovered and
closed in order.

A domain (images today; containers, shims, networks, volumes and builds later) is an object
with a name and `open`/`recover`/`close`; it registers its garbage-collection roots with the
`Collector` when it opens. Edges (the gRPC API now, a Docker REST API later) serve over the
same domain objects, which they get from `Engine`; no edge builds or reaches into a domain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from pyengine.config import DaemonConfig
from pyengine.events import EventBus

if TYPE_CHECKING:
    from pyengine.content import ContentStore
    from pyengine.gc import Collector, GcResult
    from pyengine.images.service import ImageService
    from pyengine.network.service import NetworkService
    from pyengine.snapshots import Snapshotter
    from pyengine.store import Database, LeaseRepository

log = logging.getLogger("pyengine.engine")


class Domain(Protocol):
    name: str

    def open(self) -> None:
        """Make the domain usable and register its GC roots (no long work, no I/O loops)."""

    def recover(self) -> None:
        """After `open`, at start-up: reconcile what a crash or a restart left behind."""

    def close(self) -> None:
        """Stop using shared stores; called in reverse order of `open`."""


class Engine:
    """Owns the metadata database, the content store, the snapshotter, the collector and
    the domains. Its methods block (disk, SQLite): the daemon calls them off the event loop."""

    def __init__(
        self, config: DaemonConfig, extra: Sequence[Callable[[Engine], Domain]] = (),
        events: EventBus | None = None,
    ) -> None:
        """`extra`: factories of further domains, opened after the built-in ones."""
        self.config = config
        self.events = events or EventBus()
        self._extra = list(extra)
        self.db: Database | None = None
        self.snapshotter: Snapshotter | None = None
        self.domains: list[Domain] = []
        self._opened: list[Domain] = []

    def open(self) -> None:
        from pyengine.content import ContentStore
        from pyengine.gc import Collector
        from pyengine.images.service import ImageService
        from pyengine.snapshots import NativeSnapshotter, OverlaySnapshotter
        from pyengine.store import Database, ImageRepository, LeaseRepository

        cfg = self.config
        db = self.db = Database(cfg.data_root / "metadata.db")
        self.leases: LeaseRepository = LeaseRepository(db)
        self.content: ContentStore = ContentStore(cfg.data_root / "content")
        snap_root = cfg.data_root / "snapshots" / cfg.storage_driver
        snap_root.mkdir(mode=0o700, parents=True, exist_ok=True)
        snapshotter_cls = (
            OverlaySnapshotter if cfg.storage_driver == "overlay" else NativeSnapshotter
        )
        snapshotter = self.snapshotter = snapshotter_cls(snap_root)
        images_repo = ImageRepository(db)
        self.collector: Collector = Collector(self.leases, self.content, snapshotter, images_repo)
        self.images: ImageService = ImageService(
            cfg, images_repo, self.leases, self.content, snapshotter, self.collector,
            self.events.publish,
        )
        from pyengine.containers.service import ContainerService
        from pyengine.network.service import NetworkService
        from pyengine.volumes.service import VolumeService

        self.volumes: VolumeService = VolumeService(cfg, db, self.events)
        self.networks: NetworkService = NetworkService(cfg, db, self.events)
        self.containers: ContainerService = ContainerService(
            cfg, db, self.images, snapshotter, self.collector, self.events,
            volumes=self.volumes, networks=self.networks)
        from pyengine.build.service import BuilderService

        self.builds: BuilderService = BuilderService(
            cfg, db, self.images, self.containers, snapshotter, self.collector, self.events,
            self.leases)
        # in dependency order: containers after images, volumes and networks, and so on
        self.domains = [self.images, self.volumes, self.networks, self.containers, self.builds]
        self.domains += [factory(self) for factory in self._extra]
        for domain in self.domains:
            domain.open()
            self._opened.append(domain)

    def recover(self) -> GcResult:
        """Every domain recovers, then leases and ingests left by a crash go, then one
        collection over every domain's roots."""
        for domain in self.domains:
            domain.recover()
        leases, ingests = self.collector.recover()
        result = self.collector.collect()
        if leases or ingests:
            log.info(
                "recovery done",
                extra={"fields": {
                    "leases": leases, "ingests": ingests,
                    "blobs_removed": len(result.blobs), "snapshots_removed": len(result.snapshots),
                }},
            )
        return result

    def close(self) -> None:
        while self._opened:
            domain = self._opened.pop()
            try:
                domain.close()
            except Exception as err:  # one domain failing to close must not keep the rest open
                log.error("closing a domain failed",
                          extra={"fields": {"domain": domain.name, "error": str(err)}})
        if self.snapshotter is not None:
            self.snapshotter.close()
            self.snapshotter = None
        if self.db is not None:
            self.db.close()
            self.db = None
