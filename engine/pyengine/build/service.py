"""The builds domain: BuilderService runs builds (context in, solver, image out), keeps the
build cache (its records are GC roots) and cleans up after builds cut short.

Everything one build makes lives under its lease (snapshots, blobs), its context directory
(<data-root>/builder/contexts/<id>), its mount directory (<data-root>/builder/mounts) and its
secrets directory (<exec-root>/builder/secrets/<id>); all of it goes when the build ends, and
`recover` removes what a killed daemon left (the lease itself is dropped by Collector.recover).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine import crashpoints
from pyengine.build.cache import BuildCache, CacheRecord
from pyengine.build.options import BuildEventValue, BuildOptions, BuildResultValue
from pyengine.errors import NotFound
from pyengine.gc import Roots
from pyengine.store.records import now_rfc3339

if TYPE_CHECKING:
    from pyengine.build.layers import LayerMaker
    from pyengine.build.stage_state import BuiltLayer
    from pyengine.config import DaemonConfig
    from pyengine.containers.service import ContainerService
    from pyengine.events import EventBus
    from pyengine.gc import Collector
    from pyengine.images.service import ImageService
    from pyengine.images.unpack import LayerRef
    from pyengine.snapshots import Snapshotter
    from pyengine.store import Database, LeaseRepository

log = logging.getLogger("pyengine.build")


@dataclass(frozen=True)
class CacheRecordView:
    id: str
    kind: str  # "regular" or "exec.cachemount"
    description: str
    size: int
    created_at: str
    last_used_at: str
    usage_count: int
    in_use: bool
    shared: bool


class BuilderService:
    name = "builds"

    def __init__(self, config: DaemonConfig, db: Database, images: ImageService,
                 containers: ContainerService, snapshotter: Snapshotter, collector: Collector,
                 events: EventBus, leases: LeaseRepository) -> None:
        self.config = config
        self.images = images
        self.containers = containers
        self.snapshotter = snapshotter
        self.collector = collector
        self.events = events
        self.leases = leases
        self.cache = BuildCache(db)
        root = config.data_root / "builder"
        self.contexts = root / "contexts"
        self.mounts = root / "mounts"
        self.cache_mounts = root / "cache-mounts"
        self.secrets = config.exec_root / "builder" / "secrets"
        self._cache_locks: dict[str, asyncio.Lock] = {}

    # -- Domain ---------------------------------------------------------------------------

    def open(self) -> None:
        for path in (self.contexts, self.mounts, self.cache_mounts, self.secrets):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.collector.register(self.name, self.roots)

    def recover(self) -> None:
        """What builds cut short left: mounts, active snapshots, contexts, secrets. (Their
        containers went in ContainerService.recover, their leases go in Collector.recover.)"""
        from pyengine.build.layers import PREFIX
        from pyengine.snapshots.mount import unmount_all

        for leftover in list(self.mounts.iterdir()):
            unmount_all(leftover)
            shutil.rmtree(leftover, ignore_errors=True)
        for info in list(self.snapshotter.walk()):
            if info.kind != "committed" and info.name.startswith(PREFIX):
                log.warning("removing a snapshot of an interrupted build",
                            extra={"fields": {"snapshot": info.name}})
                with contextlib.suppress(NotFound):
                    self.snapshotter.remove(info.name)
        for directory in (self.contexts, self.secrets):
            for leftover in list(directory.iterdir()):
                shutil.rmtree(leftover, ignore_errors=True)

    def close(self) -> None:
        self.collector.unregister(self.name)

    def roots(self) -> Roots:
        """Each cache record pins its blob and its layer's chain (as images pin theirs)."""
        chains: set[str] = set()
        blobs: set[str] = set()
        for record in self.cache.all():
            blobs.add(record.blob_digest)
            if record.chain_id not in chains:
                chains.update(self.images.repo.chain(record.chain_id))
        return Roots(blobs=blobs, snapshots=chains)

    # -- builds ---------------------------------------------------------------------------

    def cache_lock(self, cache_id: str) -> asyncio.Lock:
        """The lock of a cache mount used with sharing=locked (or private): one RUN at a
        time, across builds."""
        return self._cache_locks.setdefault(cache_id, asyncio.Lock())

    def platform(self) -> tuple[str, str]:
        from pyengine.registry.descriptor import host

        return host().architecture, "linux"

    def cache_hit(self, key: str, maker: LayerMaker) -> CacheRecord | None:
        """Blocking: the cache record of `key` if its layer is still there (then pinned by
        the build's lease until the image is recorded)."""
        with self.collector.lock.shared():
            record = self.cache.get(key)
            if record is None:
                return None
            try:
                self.snapshotter.stat(record.chain_id)
            except NotFound:
                return None
            if not self.images.content.exists(record.blob_digest):
                return None
            self.leases.add(maker.lease_id, "snapshot", [record.chain_id])
            self.leases.add(maker.lease_id, "content", [record.blob_digest])
            return self.cache.use(key)

    def pin(self, lease_id: str, chains: list[str], blobs: list[str]) -> None:
        """Blocking: a base image's layers kept for this build (an rmi meanwhile must not
        collect what the build stands on and will name in its manifest)."""
        with self.collector.lock.shared():
            self.leases.add(lease_id, "snapshot", chains)
            self.leases.add(lease_id, "content", blobs)

    def record_image(self, config: bytes, layers: list[LayerRef], docker_media: bool,
                     names: list[str], lease_id: str) -> str:
        """Blocking: the built image recorded (under the shared GC lock)."""
        with self.collector.lock.shared():
            return self.images.record_built(config, layers, docker_media, names, lease_id)

    def record(self, key: str, layer: BuiltLayer, description: str,
               created_by: str) -> CacheRecord:
        now = now_rfc3339()
        size = 0
        with contextlib.suppress(NotFound):
            size = int(self.snapshotter.usage(layer.chain_id).size)
        record = CacheRecord(key, layer.chain_id, layer.diff_id, layer.blob_digest,
                             layer.blob_size, layer.media_type, description, created_by, now,
                             now, 1, size)
        self.cache.put(record)
        return record

    async def build(self, options: BuildOptions, context: AsyncIterator[bytes],
                    emit: Callable[[BuildEventValue], None]) -> BuildResultValue:
        from pyengine.build import context as build_context
        from pyengine.build.layers import LayerMaker
        from pyengine.build.solver import Solver

        build_id = uuid.uuid4().hex
        context_dir = self.contexts / build_id
        spool = self.contexts / f"{build_id}.tar"
        secrets_dir = self.secrets / build_id
        # the lease alone keeps the build's snapshots and blobs from a collection; the GC lock
        # is shared only around the short steps that add to it (a build may run for long,
        # and a prune waiting for the lock must not wait for the build)
        lease_id = await asyncio.to_thread(self.leases.create, "build")
        try:
            with open(spool, "wb") as out:
                await build_context.receive(context, out)
            dockerfile_name = options.dockerfile or "Dockerfile"
            ignore = await asyncio.to_thread(build_context.extract, spool, context_dir,
                                             options.ignore_file, dockerfile_name)
            spool.unlink()
            crashpoints.reached("build.context-extracted")
            text = await asyncio.to_thread(self._dockerfile_text, options, context_dir,
                                           dockerfile_name)
            from pyengine.build.dockerfile.parser import parse

            parsed = parse(text, "-" if options.dockerfile_content is not None
                           else dockerfile_name)
            maker = LayerMaker(self.snapshotter, self.images, self.leases, lease_id, build_id,
                               self.config.storage_driver == "overlay", self.mounts)
            solver = Solver(self, build_id, options, context_dir, parsed, emit, maker,
                            context_dir.with_name(build_id + ".scratch"), secrets_dir,
                            context_ignore=ignore)
            return await solver.solve()
        finally:
            await asyncio.shield(asyncio.to_thread(self._end, lease_id, spool, context_dir,
                                                   secrets_dir))

    def _end(self, lease_id: str, spool: Path, context_dir: Path, secrets_dir: Path) -> None:
        spool.unlink(missing_ok=True)
        shutil.rmtree(context_dir, ignore_errors=True)
        shutil.rmtree(context_dir.with_name(context_dir.name + ".scratch"), ignore_errors=True)
        shutil.rmtree(secrets_dir, ignore_errors=True)
        self.leases.delete(lease_id)

    @staticmethod
    def _dockerfile_text(options: BuildOptions, context_dir: Path, name: str) -> str:
        if options.dockerfile_content is not None:
            return options.dockerfile_content.decode("utf-8", "replace")
        from pyengine.build.run_step import _inside

        path = _inside(context_dir, name)
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound("Cannot locate specified Dockerfile: " + name) from None

    # -- cache ----------------------------------------------------------------------------

    def usage(self) -> list[CacheRecordView]:
        used = self.images.repo.image_blobs()
        out = [CacheRecordView(r.id, "regular", r.description, r.size, r.created, r.last_used,
                               r.usage_count, r.blob_digest in used, False)
               for r in self.cache.all()]
        for directory in sorted(self.cache_mounts.iterdir()):
            stamp = _rfc3339(directory.stat().st_mtime)
            out.append(CacheRecordView(directory.name[:25], "exec.cachemount",
                                       f"mount {directory.name}", _tree_size(directory), stamp,
                                       stamp, 0, False, False))
        return out

    def prune(self, all_: bool, until: str, keep_storage: int) -> tuple[list[str], int]:
        """Blocking: remove cache records (not those an image uses unless all_) last used
        before `until`, oldest first, keeping `keep_storage` bytes; then collect."""
        from pyengine.timevalues import to_ns

        used = self.images.repo.image_blobs()
        limit = to_ns(until) if until else None
        records = self.cache.all()  # newest first
        kept = 0
        doomed: list[CacheRecord] = []
        for r in records:
            if not all_ and r.blob_digest in used:
                continue
            old_enough = limit is None or _ns(r.last_used) < limit
            if old_enough and kept >= keep_storage:
                doomed.append(r)
            else:
                kept += r.size
        with self.collector.lock.exclusive():
            self.cache.delete([r.key for r in doomed])
            self.collector.collect_locked()
        reclaimed = sum(r.size for r in doomed)
        ids = [r.id for r in doomed]
        for directory in list(self.cache_mounts.iterdir()):
            if all_ or limit is None:
                reclaimed += _tree_size(directory)
                ids.append(directory.name[:25])
                shutil.rmtree(directory, ignore_errors=True)
        return ids, reclaimed


def _ns(stamp: str) -> int:
    from pyengine.timevalues import to_ns

    return to_ns(stamp) or 0


def _tree_size(top: Path) -> int:
    import os

    total = 0
    for base, _dirs, files in os.walk(top):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size
    return total


def _rfc3339(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
