"""`save`: write images as a docker-archive or an oci-archive tar stream.

docker-archive follows what docker writes since v25: manifest.json and repositories (read by
every docker-archive loader) plus an OCI layout (oci-layout, index.json, blobs/sha256/) in the
same tar. Layers are stored uncompressed, named by their diff ID, as docker does.
oci-archive holds the image's original blobs, and an index whose entries carry the
io.containerd.image.name and org.opencontainers.image.ref.name annotations.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pyengine.errors import InvalidArgument
from pyengine.images import mediatypes, naming
from pyengine.images.compression import CHUNK, decompressed
from pyengine.store import ImageRecord

if TYPE_CHECKING:
    from pyengine.content import ContentStore

# image id -> (its record, the names the caller gave for it)
Chosen = dict[str, tuple[ImageRecord, list[str]]]

FORMATS = ("docker", "oci")
LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


class ImageSource(Protocol):
    """What `save` reads: local images by reference, their blobs, a scratch directory."""

    @property
    def content(self) -> ContentStore: ...

    @property
    def tmp_dir(self) -> Path: ...

    def resolve_local(self, text: str) -> ImageRecord: ...

    def stored_tag(self, text: str) -> str | None: ...


class _Writer:
    """Adds members to a streaming tar, each blob once."""

    def __init__(self, out: io.BufferedIOBase) -> None:
        self.tar = tarfile.open(  # noqa: SIM115 - closed by close()
            fileobj=out, mode="w|", format=tarfile.PAX_FORMAT
        )
        self.seen: set[str] = set()

    def add_bytes(self, name: str, data: bytes) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o444
        self.tar.addfile(info, io.BytesIO(data))

    def add_file(self, name: str, handle: BinaryIO, size: int) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o444
        self.tar.addfile(info, handle)

    def add_dir(self, name: str) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        self.tar.addfile(info)

    def close(self) -> None:
        self.tar.close()


def blob_path(digest: str) -> str:
    alg, _, hex_ = digest.partition(":")
    return f"blobs/{alg}/{hex_}"


def _canonical(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()


def save(
    source: ImageSource,
    references: list[str],
    fmt: str,
    out: io.BufferedIOBase,
) -> None:
    """Write the images named by `references` to `out` as one tar archive."""
    if fmt not in FORMATS:
        raise InvalidArgument(f"save: unknown format {fmt!r}: use docker or oci")
    if not references:
        raise InvalidArgument("save: at least one image is required")
    chosen: Chosen = {}
    for text in references:
        image = source.resolve_local(text)
        names = chosen.setdefault(image.id, (image, []))[1]
        name = source.stored_tag(text)
        if name and name not in names:
            names.append(name)
    writer = _Writer(out)
    try:
        writer.add_dir("blobs/")
        writer.add_dir("blobs/sha256/")
        if fmt == "oci":
            _save_oci(source, chosen, writer)
        else:
            _save_docker(source, chosen, writer)
        writer.add_bytes("oci-layout", LAYOUT)
    finally:
        writer.close()


def _save_oci(source: ImageSource, chosen: Chosen, writer: _Writer) -> None:
    entries: list[dict[str, object]] = []
    for image, names in chosen.values():
        manifest_bytes = source.content.read_bytes(image.manifest_digest)
        manifest = json.loads(manifest_bytes)
        digests = [image.manifest_digest, manifest["config"]["digest"]]
        digests += [layer["digest"] for layer in manifest.get("layers", [])]
        for digest in digests:
            info = source.content.info(digest)
            with source.content.open(digest) as handle:
                writer.add_file(blob_path(digest), handle, int(info.size))
        descriptor = {
            "mediaType": image.manifest_media_type,
            "digest": image.manifest_digest,
            "size": len(manifest_bytes),
        }
        if not names:
            entries.append(descriptor)
        for name in names:
            _, tag, _ = naming.split_name(name)
            entries.append({**descriptor, "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            }})
    index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": entries}
    writer.add_bytes("index.json", _canonical(index))


def _save_docker(source: ImageSource, chosen: Chosen, writer: _Writer) -> None:
    manifest_json: list[dict[str, object]] = []
    repositories: dict[str, dict[str, str]] = {}
    index_entries: list[dict[str, object]] = []
    for image, names in chosen.values():
        config_bytes = source.content.read_bytes(image.id)
        writer.add_bytes(blob_path(image.id), config_bytes)
        manifest = json.loads(source.content.read_bytes(image.manifest_digest))
        diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
        layer_paths: list[str] = []
        oci_layers: list[dict[str, object]] = []
        for layer, diff_id in zip(manifest["layers"], diff_ids, strict=True):
            size = _add_uncompressed_layer(source, writer, layer, diff_id)
            layer_paths.append(blob_path(diff_id))
            oci_layers.append({"mediaType": mediatypes.OCI_LAYER, "digest": diff_id, "size": size})
        oci_manifest = _canonical({
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": image.id,
                       "size": len(config_bytes)},
            "layers": oci_layers,
        })
        oci_digest = "sha256:" + hashlib.sha256(oci_manifest).hexdigest()
        writer.add_bytes(blob_path(oci_digest), oci_manifest)
        familiar = [naming.familiar(n) for n in names]
        manifest_json.append({
            "Config": blob_path(image.id), "RepoTags": familiar or None, "Layers": layer_paths,
        })
        descriptor = {"mediaType": mediatypes.OCI_MANIFEST, "digest": oci_digest,
                      "size": len(oci_manifest)}
        if not names:
            index_entries.append(descriptor)
        for name in names:
            repo, tag, _ = naming.split_name(name)
            repositories.setdefault(naming.familiar_repository(repo), {})[tag] = (
                image.id.split(":", 1)[1]
            )
            index_entries.append({**descriptor, "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            }})
    writer.add_bytes("index.json", _canonical(
        {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": index_entries}
    ))
    writer.add_bytes("manifest.json", _canonical(manifest_json))
    if repositories:
        writer.add_bytes("repositories", _canonical(repositories))


def _add_uncompressed_layer(
    source: ImageSource, writer: _Writer, layer: dict, diff_id: str
) -> int:
    name = blob_path(diff_id)
    with source.content.open(layer["digest"]) as raw:
        head = raw.read(8)
        raw.seek(0)
        if not (head.startswith(mediatypes.GZIP_MAGIC) or head.startswith(mediatypes.ZSTD_MAGIC)):
            size = int(source.content.info(layer["digest"]).size)
            writer.add_file(name, raw, size)
            return size
        with tempfile.TemporaryFile(dir=source.tmp_dir) as spool:
            shutil.copyfileobj(decompressed(raw, head), spool, CHUNK)
            size = spool.tell()
            spool.seek(0)
            writer.add_file(name, spool, size)
            return size
