"""`commit`: a new image made of a base image plus one layer (a container's writable layer).

The containers domain hands over a spooled gzip layer blob, its diff_id and the new runtime
config; this module stores the blob (the content store checks digest and size), writes the
config (the base's, with the layer's diff_id and a history entry appended) and a manifest of
the base's layers plus the new one, unpacks it (which checks the diff_id again) and records
the image. The new image pins the base's blobs too, so it outlives the base image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.errors import DataLoss
from pyengine.images import mediatypes, naming
from pyengine.images.compression import digest_stream
from pyengine.images.unpack import LayerRef
from pyengine.progress import ProgressChannel

if TYPE_CHECKING:
    from pyengine.images.ingest import Ingest
    from pyengine.store import ImageRecord


@dataclass(frozen=True)
class NewLayer:
    """What a commit adds on top of its base image."""

    layer_path: Path  # a gzip-compressed tar, spooled; the caller removes it
    diff_id: str  # sha256 of the uncompressed tar
    config: dict  # the runtime config ("config" of the image config)
    created_by: str = ""
    comment: str = ""
    author: str = ""
    reference: str = ""  # repo[:tag], or "" for an untagged image
    container: str = ""  # the committed container's id (docker's "container")
    container_config: dict | None = None  # its Config as inspect shows it ("container_config")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def commit_image(ingest: Ingest, base: ImageRecord, layer: NewLayer,
                 channel: ProgressChannel) -> tuple[str, str]:
    """Record base + layer as a new image; returns (image id, fully qualified name or "")."""
    name = naming.tag_name(naming.parse(layer.reference)) if layer.reference else ""
    base_config = json.loads(ingest.content.read_bytes(base.id))
    base_manifest = json.loads(ingest.content.read_bytes(base.manifest_digest))
    docker = mediatypes.manifest_type(base_manifest) == mediatypes.DOCKER_MANIFEST
    with open(layer.layer_path, "rb") as handle:
        blob_digest, size = digest_stream(handle)
    base_layers = [LayerRef(d["digest"], d["mediaType"], int(d["size"]))
                   for d in base_manifest.get("layers") or []]
    diff_ids = list((base_config.get("rootfs") or {}).get("diff_ids") or [])
    if len(diff_ids) != len(base_layers):
        raise DataLoss(f"commit: base image {naming.short_id(base.id)} has {len(diff_ids)} "
                       f"diff_ids for {len(base_layers)} layers")
    media_type = mediatypes.DOCKER_LAYER_GZIP if docker else mediatypes.OCI_LAYER_GZIP
    new_layer = LayerRef(blob_digest, media_type, size)
    created = _now()
    history = list(base_config.get("history") or [])
    entry = {"created": created, "created_by": layer.created_by}
    if layer.author:
        entry["author"] = layer.author
    if layer.comment:
        entry["comment"] = layer.comment
    config = {key: value for key, value in base_config.items()
              if key not in ("container", "container_config", "author", "comment")}
    config.update({
        "created": created,
        "config": layer.config,
        "rootfs": {"type": "layers", "diff_ids": [*diff_ids, layer.diff_id]},
        "history": [*history, entry],
    })
    if layer.author:
        config["author"] = layer.author
    if layer.container:  # docker 20.10's: image inspect's Container and ContainerConfig
        config["container"] = layer.container
        config["container_config"] = layer.container_config or {}
    config_type = mediatypes.DOCKER_CONFIG if docker else mediatypes.OCI_CONFIG
    manifest_type = mediatypes.DOCKER_MANIFEST if docker else mediatypes.OCI_MANIFEST
    with ingest.transfer("commit") as lease_id:
        ingest.protect(lease_id, [blob_digest])
        ingest.store_file(layer.layer_path, blob_digest, size, f"commit-{blob_digest}")
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = ingest.content.write_blob(config_bytes)
        layers = [*base_layers, new_layer]
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest,
                       "size": len(config_bytes)},
            "layers": [{"mediaType": ref.media_type, "digest": ref.digest, "size": ref.size}
                       for ref in layers],
        }
        manifest_digest = ingest.content.write_blob(
            json.dumps(manifest, separators=(",", ":")).encode())
        blobs = [*(ref.digest for ref in layers), config_digest, manifest_digest]
        ingest.protect(lease_id, blobs)
        unpacked = ingest.unpack(config_digest, layers, lease_id, channel)
        record = ingest.record(config_digest, manifest_digest, None, unpacked, blobs,
                               [(name, "tag")] if name else [], parent=base.id)
    return record.id, name
