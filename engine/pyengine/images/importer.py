"""`import`: a rootfs tarball becomes a single-layer image; `--change` edits its config."""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.errors import InvalidArgument
from pyengine.images import mediatypes, naming
from pyengine.images.compression import CHUNK, decompressed, digest_stream
from pyengine.images.unpack import LayerRef
from pyengine.progress import ProgressChannel

if TYPE_CHECKING:
    from pyengine.images.ingest import Ingest

CHANGE_KEYS = ("CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL", "EXPOSE", "VOLUME",
               "STOPSIGNAL", "HEALTHCHECK")


@dataclass(frozen=True)
class ImportOptions:
    reference: str = ""
    changes: tuple[str, ...] = ()
    message: str = ""
    os: str = ""
    architecture: str = ""
    variant: str = ""


def json_form(value: str) -> list[str] | None:
    """The words of an instruction's JSON array form; None: it is in shell form."""
    if not value.startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
        return parsed
    return None


def _exec_form(value: str) -> list[str]:
    """JSON array form, or shell form wrapped in /bin/sh -c (Dockerfile rules)."""
    value = value.strip()
    words = json_form(value)
    return words if words is not None else ["/bin/sh", "-c", value]


def _pairs(value: str, what: str) -> list[tuple[str, str]]:
    """KEY=VALUE pairs (quoted values allowed), or the legacy "KEY VALUE" form."""
    words = shlex.split(value)
    if words and "=" not in words[0]:
        key, _, rest = value.strip().partition(" ")
        return [(key, rest.strip())]
    out = []
    for word in words:
        key, sep, val = word.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"--change {what}: {word!r} is not KEY=VALUE")
        out.append((key, val))
    return out


def apply_changes(config: dict, changes: tuple[str, ...] | list[str]) -> dict:
    """Apply Dockerfile-style instructions to an image's runtime config (a copy)."""
    cfg = json.loads(json.dumps(config))
    for change in changes:
        keyword, _, value = change.strip().partition(" ")
        keyword = keyword.upper()
        value = value.strip()
        if keyword not in CHANGE_KEYS:
            raise InvalidArgument(
                f"--change {change!r}: {keyword} is not supported (one of {', '.join(CHANGE_KEYS)})"
            )
        if not value:
            raise InvalidArgument(f"--change {change!r}: {keyword} needs an argument")
        if keyword == "CMD":
            cfg["Cmd"] = _exec_form(value)
        elif keyword == "ENTRYPOINT":
            cfg["Entrypoint"] = _exec_form(value)
        elif keyword == "ENV":
            env = [e for e in cfg.get("Env") or []]
            for key, val in _pairs(value, "ENV"):
                env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={val}"]
            cfg["Env"] = env
        elif keyword == "LABEL":
            labels = dict(cfg.get("Labels") or {})
            labels.update(dict(_pairs(value, "LABEL")))
            cfg["Labels"] = labels
        elif keyword == "WORKDIR":
            cfg["WorkingDir"] = value
        elif keyword == "USER":
            cfg["User"] = value
        elif keyword == "STOPSIGNAL":
            cfg["StopSignal"] = value
        elif keyword == "HEALTHCHECK":
            from pyengine.images.healthcheck import parse_instruction

            cfg["Healthcheck"] = parse_instruction(value)
        elif keyword == "EXPOSE":
            ports = dict(cfg.get("ExposedPorts") or {})
            for port in value.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            cfg["ExposedPorts"] = ports
        elif keyword == "VOLUME":
            volumes = dict(cfg.get("Volumes") or {})
            for vol in _exec_form(value) if value.startswith("[") else value.split():
                volumes[vol] = {}
            cfg["Volumes"] = volumes
    return cfg


def import_image(
    ingest: Ingest, path: Path, opts: ImportOptions, channel: ProgressChannel
) -> tuple[str, str]:
    """Import the tarball spooled at `path`; return (image id, fully qualified name or "")."""
    from pyengine.registry.descriptor import host

    name = naming.tag_name(naming.parse(opts.reference)) if opts.reference else ""
    changes_cfg = apply_changes({}, opts.changes)
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(mediatypes.BZIP2_MAGIC) or head.startswith(mediatypes.XZ_MAGIC):
        plain = Path(tempfile.mkstemp(dir=ingest.tmp_dir, suffix=".tar")[1])
        with open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(decompressed(src, head), dst, CHUNK)
        path.unlink()
        path, head = plain, b""
    media_type = mediatypes.layer_type_for(head)
    with open(path, "rb") as handle:
        diff_id, _ = digest_stream(decompressed(handle, head))
    with open(path, "rb") as handle:
        blob_digest, size = digest_stream(handle)
    with ingest.transfer("import") as lease_id:
        ingest.protect(lease_id, [blob_digest])
        ingest.store_file(path, blob_digest, size, f"import-{blob_digest}")
        platform = host()
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        config = {
            "architecture": opts.architecture or platform.architecture,
            "os": opts.os or "linux",
            "created": created,
            "config": changes_cfg,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "created_by": "",
                         "comment": opts.message or "Imported from -"}],
        }
        if opts.variant or platform.variant:
            config["variant"] = opts.variant or platform.variant
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = ingest.content.write_blob(config_bytes)
        layer = LayerRef(blob_digest, media_type, size)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": config_digest,
                       "size": len(config_bytes)},
            "layers": [{"mediaType": media_type, "digest": blob_digest, "size": size}],
        }
        manifest_digest = ingest.content.write_blob(
            json.dumps(manifest, separators=(",", ":")).encode()
        )
        blobs = [blob_digest, config_digest, manifest_digest]
        ingest.protect(lease_id, blobs)
        unpacked = ingest.unpack(config_digest, [layer], lease_id, channel)
        record = ingest.record(config_digest, manifest_digest, None, unpacked, blobs,
                               [(name, "tag")] if name else [])
    return record.id, name
