"""`load`: read a docker-archive or oci-archive (optionally compressed) into the store."""

from __future__ import annotations

import json
import posixpath
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyengine.errors import DataLoss, InvalidArgument
from pyengine.images import mediatypes, naming
from pyengine.images.unpack import LayerRef
from pyengine.progress import ProgressChannel

if TYPE_CHECKING:
    from pyengine.images.ingest import Ingest

MAX_JSON = 16 << 20


@dataclass
class LoadResult:
    loaded: list[str] = field(default_factory=list)
    image_ids: list[str] = field(default_factory=list)


class _Archive:
    """Random access to the members of a spooled archive, following in-archive links."""

    def __init__(self, path: Path) -> None:
        try:
            self.tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
            self.members = {self._clean(m.name): m for m in self.tar.getmembers()}
        except (tarfile.TarError, EOFError, OSError) as err:
            raise InvalidArgument(f"load: not a tar archive: {err}") from err

    @staticmethod
    def _clean(name: str) -> str:
        return posixpath.normpath(name.lstrip("/")).removeprefix("./")

    def member(self, name: str) -> tarfile.TarInfo:
        seen = 0
        clean = self._clean(name)
        while True:
            member = self.members.get(clean)
            if member is None:
                raise InvalidArgument(f"load: archive has no {name!r}")
            if member.issym() or member.islnk():
                seen += 1
                if seen > 8:
                    raise InvalidArgument(f"load: too many links resolving {name!r}")
                base = posixpath.dirname(clean) if member.issym() else ""
                clean = self._clean(posixpath.join(base, member.linkname))
                continue
            if not member.isfile():
                raise InvalidArgument(f"load: {name!r} is not a regular file")
            return member

    def has(self, name: str) -> bool:
        return self._clean(name) in self.members

    def read(self, name: str) -> bytes:
        member = self.member(name)
        if member.size > MAX_JSON:
            raise InvalidArgument(f"load: {name!r} is too large for a JSON document")
        handle = self.tar.extractfile(member)
        assert handle is not None
        return handle.read()

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except json.JSONDecodeError as err:
            raise InvalidArgument(f"load: {name!r} is not valid JSON: {err}") from err

    def close(self) -> None:
        self.tar.close()


def load(ingest: Ingest, path: Path, channel: ProgressChannel) -> LoadResult:
    """Load every image of the archive at `path`."""
    archive = _Archive(path)
    try:
        with ingest.transfer("load") as lease_id:
            if archive.has("manifest.json"):
                return _load_docker(ingest, archive, lease_id, channel)
            if archive.has("index.json"):
                return _load_oci(ingest, archive, lease_id, channel)
            raise InvalidArgument("load: archive has neither manifest.json nor index.json")
    finally:
        archive.close()


def _ingest(
    ingest: Ingest, archive: _Archive, name: str, expected: str | None
) -> tuple[str, int, bytes]:
    """Copy one archive member into the content store; return (digest, size, first bytes)."""
    member = archive.member(name)
    handle = archive.tar.extractfile(member)
    assert handle is not None
    head = handle.read(8)
    handle.seek(0)
    if expected is None:
        from pyengine.images.compression import digest_stream

        expected, _ = digest_stream(handle)
        handle.seek(0)
    ingest.store_stream(handle, expected, member.size, f"load-{expected}")
    return expected, member.size, head


def _record(ingest: Ingest, lease_id: str, config_digest: str, manifest: dict,
            layers: list[LayerRef], names: list[str], channel: ProgressChannel) -> str:
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_digest = ingest.content.write_blob(manifest_bytes)
    blobs = [config_digest, manifest_digest, *[layer.digest for layer in layers]]
    ingest.protect(lease_id, blobs)
    unpacked = ingest.unpack(config_digest, layers, lease_id, channel)
    stored = [(naming.tag_name(naming.parse(n)), "tag") for n in names]
    record = ingest.record(config_digest, manifest_digest, None, unpacked, blobs, stored)
    return record.id


def _load_docker(
    ingest: Ingest, archive: _Archive, lease_id: str, channel: ProgressChannel
) -> LoadResult:
    entries = archive.json("manifest.json")
    if not isinstance(entries, list):
        raise InvalidArgument("load: manifest.json must be a list")
    result = LoadResult()
    for entry in entries:
        config_bytes = archive.read(entry["Config"])
        config_digest = ingest.content.write_blob(config_bytes)
        layers: list[LayerRef] = []
        for layer_path in entry.get("Layers") or []:
            digest, size, head = _ingest(ingest, archive, layer_path, None)
            layers.append(LayerRef(digest, mediatypes.layer_type_for(head), size))
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": config_digest,
                       "size": len(config_bytes)},
            "layers": [{"mediaType": la.media_type, "digest": la.digest, "size": la.size}
                       for la in layers],
        }
        names = list(entry.get("RepoTags") or [])
        image_id = _record(ingest, lease_id, config_digest, manifest, layers, names, channel)
        result.image_ids.append(image_id)
        result.loaded += [naming.familiar(naming.tag_name(naming.parse(n))) for n in names]
        if not names:
            result.loaded.append(image_id)
    return result


def _load_oci(
    ingest: Ingest, archive: _Archive, lease_id: str, channel: ProgressChannel
) -> LoadResult:
    index = archive.json("index.json")
    result = LoadResult()
    for desc in index.get("manifests") or []:
        annotations = desc.get("annotations") or {}
        name = annotations.get("io.containerd.image.name") or ""
        ref_name = annotations.get("org.opencontainers.image.ref.name") or ""
        if not name and ref_name and ("/" in ref_name or ":" in ref_name):
            name = ref_name
        image_id = _load_oci_manifest(ingest, archive, desc, lease_id, channel, name)
        result.image_ids.append(image_id)
        result.loaded.append(naming.familiar(naming.tag_name(naming.parse(name))) if name
                             else image_id)
    return result


def _blob(ingest: Ingest, archive: _Archive, digest: str) -> bytes:
    data = archive.read(f"blobs/{digest.replace(':', '/', 1)}")
    ingest.content.write_blob(data, digest)
    return data


def _load_oci_manifest(ingest: Ingest, archive: _Archive, desc: dict, lease_id: str,
                       channel: ProgressChannel, name: str) -> str:
    from pyengine.registry.descriptor import Descriptor, host, select_platform

    data = _blob(ingest, archive, desc["digest"])
    doc = json.loads(data)
    media_type = desc.get("mediaType") or mediatypes.manifest_type(doc)
    if media_type in mediatypes.INDEXES:
        children = [Descriptor.from_dict(d, "index.json") for d in doc.get("manifests", [])]
        chosen = select_platform(children, host(), f"index {desc['digest']}")
        return _load_oci_manifest(ingest, archive, chosen.to_dict(), lease_id, channel, name)
    if media_type not in mediatypes.MANIFESTS:
        raise InvalidArgument(f"load: unsupported manifest media type {media_type!r}")
    config_digest = doc["config"]["digest"]
    _blob(ingest, archive, config_digest)
    layers: list[LayerRef] = []
    for layer in doc.get("layers") or []:
        path = f"blobs/{layer['digest'].replace(':', '/', 1)}"
        digest, size, _ = _ingest(ingest, archive, path, layer["digest"])
        if size != int(layer["size"]):
            raise DataLoss(f"load: layer {digest}: size {size}, manifest says {layer['size']}")
        layers.append(LayerRef(digest, layer["mediaType"], size))
    ingest.protect(lease_id, [desc["digest"], config_digest])
    unpacked = ingest.unpack(config_digest, layers, lease_id, channel)
    names = [(naming.tag_name(naming.parse(name)), "tag")] if name else []
    blobs = [desc["digest"], config_digest, *[la.digest for la in layers]]
    record = ingest.record(config_digest, desc["digest"], None, unpacked, blobs, names)
    return record.id
