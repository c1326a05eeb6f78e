"""Unpack an image's layers into snapshots keyed by chain ID, verifying each diff ID."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from pyengine import archive
from pyengine.errors import AlreadyExists, DataLoss, NotFound
from pyengine.images.layer_size import diff_size
from pyengine.images.layers import chain_ids
from pyengine.images.naming import short_id
from pyengine.progress import ProgressChannel
from pyengine.store import ImageRepository, LayerRecord, LeaseRepository

if TYPE_CHECKING:
    from pyengine.content import ContentStore
    from pyengine.snapshots import Snapshotter

REPORT_EVERY = 1 << 20


@dataclass(frozen=True)
class LayerRef:
    """A layer blob in the content store."""

    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Unpacked:
    chain_id: str
    size: int
    chain: list[str]


class CountingReader:
    """Wraps a blob stream to report "Extracting" progress every megabyte."""

    def __init__(self, raw: BinaryIO, channel: ProgressChannel, layer_id: str, total: int) -> None:
        self._raw = raw
        self._channel = channel
        self._id = layer_id
        self._total = total
        self._done = 0
        self._next = REPORT_EVERY

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._done += len(data)
        if self._done >= self._next:
            self._next = self._done + REPORT_EVERY
            self._channel.report(self._id, "Extracting", self._done, self._total)
        return data


class Unpacker:
    """Turns layer blobs into committed snapshots named by chain ID."""

    def __init__(
        self,
        content: ContentStore,
        snapshotter: Snapshotter,
        repo: ImageRepository,
        leases: LeaseRepository,
        *,
        whiteouts: archive.WhiteoutMode,
        limits: archive.Limits,
    ) -> None:
        self.content = content
        self.snapshotter = snapshotter
        self.repo = repo
        self.leases = leases
        self.whiteouts = whiteouts
        self.limits = limits

    def is_committed(self, chain_id: str) -> bool:
        try:
            info = self.snapshotter.stat(chain_id)
        except NotFound:
            return False
        kind = getattr(info, "kind", "committed")
        return str(getattr(kind, "value", kind)).lower() == "committed"

    def unpack(
        self,
        config_digest: str,
        layers: list[LayerRef],
        lease_id: str,
        channel: ProgressChannel,
        ready: Callable[[LayerRef], None] | None = None,
    ) -> Unpacked:
        """Unpack `layers` (base first) checking them against the config's rootfs.diff_ids
        (none at all is an image too: its chain ID is "").

        `ready(layer)` is called before a layer is applied; it blocks until the layer's blob
        is in the content store (a pull downloading concurrently).
        """
        config = json.loads(self.content.read_bytes(config_digest))
        diff_ids = list(config.get("rootfs", {}).get("diff_ids") or [])
        if len(diff_ids) != len(layers):
            raise DataLoss(
                f"image config {config_digest}: {len(diff_ids)} diff_ids for "
                f"{len(layers)} layers in the manifest"
            )
        chain = chain_ids(diff_ids)
        parent: str | None = None
        total_size = 0
        for layer, diff_id, chain_id in zip(layers, diff_ids, chain, strict=True):
            channel.check()
            layer_id = short_id(layer.digest)
            if self.is_committed(chain_id):
                record = self.repo.layer(chain_id)
                if record is None:
                    size = self._usage(chain_id)
                    self.repo.put_layer(LayerRecord(chain_id, diff_id, parent, size))
                else:
                    size = record.size
                channel.report(layer_id, "Already exists")
            else:
                if ready is not None:
                    ready(layer)
                size = self._apply(layer, diff_id, chain_id, parent, lease_id, channel)
                channel.report(layer_id, "Pull complete")
            total_size += size
            parent = chain_id
        # an image without layers (`FROM scratch` with only LABEL, ENV...: docker makes
        # those) has no chain: its containers start from an empty snapshot
        return Unpacked(chain[-1] if chain else "", total_size, chain)

    def _usage(self, chain_id: str) -> int:
        try:
            return int(self.snapshotter.usage(chain_id).size)
        except Exception:  # usage is informative only
            return 0

    def _apply(
        self,
        layer: LayerRef,
        diff_id: str,
        chain_id: str,
        parent: str | None,
        lease_id: str,
        channel: ProgressChannel,
    ) -> int:
        key = f"extract-{lease_id[:12]}-{uuid.uuid4().hex[:8]}"
        self.leases.add(lease_id, "snapshot", [key, chain_id])
        self.snapshotter.prepare(key, parent)
        committed = False
        try:
            layer_id = short_id(layer.digest)
            lowers = None
            if self.whiteouts == "overlay" and parent is not None:
                # an overlay upper dir is filled like a mounted view: parents' dirs, nearest first
                lowers = self.snapshotter.parent_dirs(key)
            with self.content.open(layer.digest) as raw:
                reader = CountingReader(raw, channel, layer_id, layer.size)
                result = archive.apply_layer(
                    reader,
                    layer.media_type,
                    self.snapshotter.upper_dir(key),
                    whiteouts=self.whiteouts,
                    limits=self.limits,
                    lowers=lowers,
                )
            if result.diff_id != diff_id:
                raise DataLoss(
                    f"layer {layer.digest}: uncompressed digest {result.diff_id} does not match "
                    f"the image config's diff_id {diff_id}"
                )
            channel.check()
            # docker's size (the layer's own files), not the tar's: an overlay snapshot holds
            # only its layer; a native one is a whole copy of its parents too
            size = diff_size(self.snapshotter.upper_dir(key)) if self.whiteouts == "overlay" \
                else int(result.size)
            try:
                self.snapshotter.commit(chain_id, key)
                committed = True
            except AlreadyExists:
                pass  # a concurrent pull committed the same layer first
            self.repo.put_layer(LayerRecord(chain_id, diff_id, parent, size))
            return size
        finally:
            if not committed:
                try:
                    self.snapshotter.remove(key)
                except NotFound:
                    pass
