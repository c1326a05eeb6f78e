"""A layer-producing step's snapshot: prepared on the stage's chain under the build's lease,
turned into a layer (a gzip blob in the content store, a committed snapshot named by its chain
id, a LayerRecord), or discarded. Every function blocks: call them off the loop."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine import crashpoints
from pyengine.build.stage_state import BuiltLayer
from pyengine.errors import AlreadyExists, NotFound
from pyengine.images import mediatypes

if TYPE_CHECKING:
    from pyengine.images.service import ImageService
    from pyengine.snapshots import Snapshotter
    from pyengine.store import LeaseRepository

PREFIX = "build-"  # active snapshots of builds; recover removes those left


@dataclass
class LayerMaker:
    """Makes the layers of one build, all under its lease."""

    snapshotter: Snapshotter
    images: ImageService
    leases: LeaseRepository
    lease_id: str
    build_id: str
    overlay: bool  # the overlay snapshotter: upper dirs hold only the changes
    mounts_dir: Path  # where COPY mounts a step's snapshot
    _n: int = 0

    def prepare(self, parent: str | None) -> str:
        self._n += 1
        key = f"{PREFIX}{self.build_id[:12]}-{self._n}"
        self.leases.add(self.lease_id, "snapshot", [key])
        self.snapshotter.prepare(key, parent)
        return key

    def view(self, chain_id: str | None) -> tuple[str, Path]:
        """A snapshot of `chain_id` mounted on a scratch dir (COPY --from, RUN --mount from=);
        release_view undoes it."""
        from pyengine.snapshots.mount import mount_all

        key = self.prepare(chain_id)
        target = self.mounts_dir / key
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            mount_all(self.snapshotter.mounts(key), target)
        except BaseException:
            target.rmdir()
            self.discard(key)
            raise
        return key, target

    def release_view(self, key: str) -> None:
        from pyengine.snapshots.mount import unmount_all

        target = self.mounts_dir / key
        unmount_all(target)
        with contextlib.suppress(OSError):
            target.rmdir()
        self.discard(key)

    def discard(self, key: str) -> None:
        with contextlib.suppress(NotFound):
            self.snapshotter.remove(key)

    @contextlib.contextmanager
    def mounted(self, key: str) -> Iterator[Path]:
        """The snapshot mounted on a scratch directory (COPY writes into it)."""
        from pyengine.snapshots.mount import mount_all, unmount_all

        target = self.mounts_dir / key
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        mount_all(self.snapshotter.mounts(key), target)
        try:
            crashpoints.reached("build.copy-mounted")
            yield target
        finally:
            unmount_all(target)
            with contextlib.suppress(OSError):
                target.rmdir()

    def commit(self, key: str, parent: str | None, docker_media: bool,
               skip: Callable[[str, os.stat_result], bool] | None = None) -> BuiltLayer:
        """The snapshot's changes as a layer: blob stored, snapshot committed as its chain id
        (or dropped if that layer exists already), LayerRecord put; under the shared GC lock
        (what it adds to the lease must not be collected meanwhile)."""
        with self.images.collector.lock.shared():
            return self._commit(key, parent, docker_media, skip)

    def _commit(self, key: str, parent: str | None, docker_media: bool,
                skip: Callable[[str, os.stat_result], bool] | None) -> BuiltLayer:
        from pyengine import archive
        from pyengine.images.compression import digest_stream
        from pyengine.store import LayerRecord

        upper = self.snapshotter.upper_dir(key)
        lowers = None if self.overlay else self.snapshotter.parent_dirs(key)[:1]
        skipped: list[str] = []
        files: dict[int, int] = {}  # inode -> length, of what the layer carries

        def skip_and_note(name: str, st: os.stat_result) -> bool:
            if skip is not None and skip(name, st):
                skipped.append(name)
                return True
            if not stat.S_ISDIR(st.st_mode):
                files[st.st_ino] = st.st_size
            return False

        fd, name = tempfile.mkstemp(prefix="build-", suffix=".tar.gz", dir=self.images.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                diff_id = archive.diff(lowers, upper, out, compression="gzip",
                                       skip=skip_and_note)
            _remove_empty(upper, skipped)  # the snapshot must hold what the blob holds
            with open(name, "rb") as handle:
                digest, size = digest_stream(handle)
            ingest = self.images.ingest
            ingest.protect(self.lease_id, [digest])
            ingest.store_file(Path(name), digest, size, key)  # one ref per step: two stages
            # may store the same blob at once
        finally:
            os.unlink(name)
        crashpoints.reached("build.layer-stored")
        chain_id = diff_id if parent is None else "sha256:" + hashlib.sha256(
            f"{parent} {diff_id}".encode()).hexdigest()
        self.leases.add(self.lease_id, "snapshot", [chain_id])
        try:
            self.snapshotter.commit(chain_id, key)
        except AlreadyExists:
            self.discard(key)
        # what docker counts as a layer's size (history's SIZE): the lengths of the files
        # the layer carries, directories not counted, a hard-linked file once
        self.images.repo.put_layer(LayerRecord(chain_id, diff_id, parent, sum(files.values())))
        media = mediatypes.DOCKER_LAYER_GZIP if docker_media else mediatypes.OCI_LAYER_GZIP
        return BuiltLayer(chain_id, diff_id, digest, size, media)


def _remove_empty(root: Path, names: list[str]) -> None:
    """Remove the empty mount points the layer left out (deepest first), never following a
    link: each is an empty directory or an empty regular file the runtime made."""
    for name in sorted(names, key=lambda n: n.count("/"), reverse=True):
        path = root / name
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                os.rmdir(path)
            elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
                os.unlink(path)

