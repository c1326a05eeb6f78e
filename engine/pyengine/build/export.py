"""A built stage as an image: docker's image config (created, architecture, os, config,
rootfs.diff_ids, history) and a manifest of docker's media types (OCI when the base was OCI),
recorded through ImageService.record_built."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pyengine.build.stage_state import StageState
from pyengine.images import mediatypes
from pyengine.images.unpack import LayerRef

if TYPE_CHECKING:
    from pyengine.images.ingest import Ingest


def image_config(state: StageState, created: str, arch: str, os_name: str) -> bytes:
    config = {key: value for key, value in state.config.items()
              if key not in ("rootfs", "history", "created", "config")}
    config.update({
        "architecture": state.config.get("architecture") or arch,
        "os": state.config.get("os") or os_name,
        "config": state.section,
        "created": created,
        "history": state.history,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in state.layers]},
    })
    return json.dumps(config, separators=(",", ":"), sort_keys=True).encode()


def layer_refs(state: StageState) -> list[LayerRef]:
    return [LayerRef(layer.blob_digest, layer.media_type, layer.blob_size)
            for layer in state.layers]


def write_manifest(ingest: Ingest, config_digest: str, config_size: int,
                   layers: list[LayerRef], docker_media: bool) -> str:
    config_type = mediatypes.DOCKER_CONFIG if docker_media else mediatypes.OCI_CONFIG
    manifest_type = mediatypes.DOCKER_MANIFEST if docker_media else mediatypes.OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": ref.media_type, "digest": ref.digest, "size": ref.size}
                   for ref in layers],
    }
    return ingest.content.write_blob(json.dumps(manifest, separators=(",", ":")).encode())
