"""Docker-shaped views of an image: the inspect document and the history rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pyengine.images import naming
from pyengine.store import ImageRecord, NameRecord

# docker's container.Config fields that are always present in `docker image inspect`.
CONFIG_DEFAULTS: dict = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}

ZERO_TIME = "0001-01-01T00:00:00Z"


def parse_time(text: str) -> int:
    """RFC 3339 (with up to nanoseconds) -> seconds since the epoch; 0 when absent or bad."""
    if not text:
        return 0
    value = text.strip().replace("Z", "+00:00")
    if "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return 0


def docker_config(image_config: dict) -> dict:
    """The image's runtime config with docker's always-present keys filled in."""
    cfg = dict(CONFIG_DEFAULTS)
    cfg.update(image_config.get("config") or {})
    return cfg


def inspect_document(
    image: ImageRecord, config: dict, names: list[NameRecord], storage_driver: str
) -> dict:
    history = config.get("history") or []
    doc: dict = {
        "Id": image.id,
        "RepoTags": [naming.familiar(n.name) for n in names if n.kind == "tag"],
        "RepoDigests": [naming.familiar(n.name) for n in names if n.kind == "digest"],
        "Parent": image.parent,
        "Comment": (history[-1].get("comment", "") if history else ""),
        "Created": config.get("created") or ZERO_TIME,
        # the container a committed image came from, and its config (docker 20.10 shows both,
        # empty for other images)
        "Container": config.get("container", ""),
        "ContainerConfig": {**CONFIG_DEFAULTS, **(config.get("container_config") or {})},
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": docker_config(config),
        "Architecture": config.get("architecture", ""),
    }
    if config.get("variant"):
        doc["Variant"] = config["variant"]
    doc.update({
        "Os": config.get("os", ""),
        "Size": image.size,
        "VirtualSize": image.size,  # API 1.41 still has it: the same as Size since 1.37
        "GraphDriver": {"Data": None, "Name": storage_driver},
        "RootFS": _rootfs(config),
        "Metadata": {"LastTagTime": image.last_tag_time or ZERO_TIME},
        "Descriptor": {
            "mediaType": image.manifest_media_type,
            "digest": image.manifest_digest,
        },
    })
    return doc


def _rootfs(config: dict) -> dict:
    """docker's RootFS: an image without layers has no Layers (Go's omitempty)."""
    layers = list((config.get("rootfs") or {}).get("diff_ids") or [])
    return {"Type": "layers", "Layers": layers} if layers else {"Type": "layers"}


@dataclass
class HistoryRow:
    """One step of `docker history`: the image ID on the newest row, "<missing>" on the others."""

    id: str
    created: int
    created_by: str
    size: int
    comment: str
    empty_layer: bool
    tags: list[str] = field(default_factory=list)


def history_entries(
    config: dict, layer_sizes: dict[str, int], images: list[tuple[str, list[str]]]
) -> list[HistoryRow]:
    """History rows, newest first, each with the size of the layer it produced. `images`:
    the image, its parent, its parent's parent... (id, tags); as dockerd does, they name the
    rows from the newest down, one each, and the others are "<missing>"."""
    diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
    history = list(config.get("history") or [])
    if not history:
        history = [{"created": config.get("created", "")} for _ in diff_ids]
    rows = []
    layer_index = 0
    for entry in history:
        empty = bool(entry.get("empty_layer"))
        size = 0
        if not empty and layer_index < len(diff_ids):
            size = layer_sizes.get(diff_ids[layer_index], 0)
            layer_index += 1
        rows.append(HistoryRow(
            id="<missing>",
            created=parse_time(str(entry.get("created", ""))),
            created_by=str(entry.get("created_by", "")),
            size=size,
            comment=str(entry.get("comment", "")),
            empty_layer=empty,
        ))
    rows.reverse()
    for row, (image_id, tags) in zip(rows, images, strict=False):
        row.id, row.tags = image_id, tags
    return rows
