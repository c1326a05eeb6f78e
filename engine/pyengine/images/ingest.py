"""What every way of bringing an image in (pull, load, import, later commit and build) needs:
a lease for the transfer, the content store, the unpacker and the final image record.

`load` (archive_in) and `import` (importer) take an `Ingest`, not the image service: they can
write blobs, unpack layers under their lease and record images, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pyengine.images import mediatypes
from pyengine.images.locks import SharedExclusiveLock
from pyengine.images.unpack import LayerRef, Unpacked, Unpacker
from pyengine.progress import ProgressChannel
from pyengine.store import ImageRecord, ImageRepository, LeaseRepository
from pyengine.store.records import now_rfc3339

if TYPE_CHECKING:
    from pyengine.content import ContentStore


class Ingest:
    """Blobs in, layers unpacked, image recorded; all under a lease and the shared GC lock."""

    def __init__(
        self,
        content: ContentStore,
        repo: ImageRepository,
        leases: LeaseRepository,
        unpacker: Unpacker,
        gc_lock: SharedExclusiveLock,
        tmp_dir: Path,
    ) -> None:
        self.content = content
        self.tmp_dir = tmp_dir
        self._repo = repo
        self._leases = leases
        self._unpacker = unpacker
        self._gc_lock = gc_lock

    @contextmanager
    def transfer(self, purpose: str) -> Iterator[str]:
        """Shared GC lock plus a lease for the duration of a pull/load/import."""
        with self._gc_lock.shared():
            lease_id = self._leases.create(purpose)
            try:
                yield lease_id
            finally:
                self._leases.delete(lease_id)

    def protect(self, lease_id: str, blobs: list[str]) -> None:
        """Keep `blobs` from garbage collection until the lease ends."""
        self._leases.add(lease_id, "content", blobs)

    def store_file(self, path: Path, digest: str, size: int, ref: str) -> None:
        """Copy a spooled blob into the content store; the store checks digest and size."""
        with open(path, "rb") as handle:
            self.store_stream(handle, digest, size, ref)

    def store_stream(self, handle: IO[bytes], digest: str, size: int, ref: str) -> None:
        """Copy what `handle` reads into the content store as blob `digest` (checked, with
        the size), unless the store has it already."""
        from pyengine.content import BlobExists
        from pyengine.images.compression import CHUNK

        try:
            writer = self.content.writer(ref, digest, size)
        except BlobExists:
            return
        try:
            if writer.offset:
                writer.reset()
            while chunk := handle.read(CHUNK):
                writer.write(chunk)
            writer.commit()
        except BaseException:
            writer.abort()
            raise

    def unpack(
        self, config_digest: str, layers: list[LayerRef], lease_id: str, channel: ProgressChannel
    ) -> Unpacked:
        return self._unpacker.unpack(config_digest, layers, lease_id, channel)

    def image_record(
        self, config_digest: str, manifest_digest: str, index_digest: str | None,
        unpacked: Unpacked, parent: str = "",
    ) -> ImageRecord:
        """The metadata row of an image whose config and manifest are in the content store."""
        config = json.loads(self.content.read_bytes(config_digest))
        manifest = json.loads(self.content.read_bytes(manifest_digest))
        return ImageRecord(
            id=config_digest,
            manifest_digest=manifest_digest,
            manifest_media_type=mediatypes.manifest_type(manifest),
            index_digest=index_digest,
            created=str(config.get("created") or ""),
            os=str(config.get("os") or ""),
            architecture=str(config.get("architecture") or ""),
            variant=str(config.get("variant") or ""),
            chain_id=unpacked.chain_id,
            size=unpacked.size,
            added_at=now_rfc3339(),
            parent=parent,
        )

    def record(
        self, config_digest: str, manifest_digest: str, index_digest: str | None,
        unpacked: Unpacked, blobs: list[str], names: list[tuple[str, str]], parent: str = "",
    ) -> ImageRecord:
        """Record the image with its blobs and names (atomically); return its row."""
        record = self.image_record(config_digest, manifest_digest, index_digest, unpacked,
                                   parent)
        self._repo.put_image(record, blobs, names)
        return record
