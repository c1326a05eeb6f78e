"""GET /images/json: one summary per image in docker's shape, with docker's filters
(dangling, label, reference, before, since). Blocking: runs in the worker pool."""

from __future__ import annotations

from typing import Any

from pyengine.errors import InvalidArgument
from pyengine.images import naming
from pyengine.images.inspect import parse_time
from pyengine.images.service import ImageService, matches_reference
from pyengine.store import ImageRecord

KNOWN = ("dangling", "label", "reference", "before", "since")


def _labels(service: ImageService, image: ImageRecord) -> dict[str, str] | None:
    config = service.config_of(image).get("config") or {}
    labels = config.get("Labels")
    return dict(labels) if isinstance(labels, dict) else None


def _has_labels(labels: dict[str, str] | None, wanted: list[str]) -> bool:
    for item in wanted:
        key, eq, value = item.partition("=")
        if labels is None or key not in labels:
            return False
        if eq and labels[key] != value:
            return False
    return True


def _created_of(service: ImageService, text: str) -> int:
    return parse_time(service.resolve_local(text).created)


def summaries(service: ImageService, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
    for key in filters:
        if key not in KNOWN:
            raise InvalidArgument(f"Invalid filter '{key}'")
    dangling: bool | None = None
    for value in filters.get("dangling", []):
        if value.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'dangling={value}'")
        dangling = value.lower() in ("true", "1")
    before = min((_created_of(service, t) for t in filters.get("before", [])), default=None)
    since = max((_created_of(service, t) for t in filters.get("since", [])), default=None)
    patterns = filters.get("reference", [])
    wanted_labels = filters.get("label", [])
    out: list[dict[str, Any]] = []
    for image in service.repo.images():
        names = service.repo.names(image.id)
        tags = [naming.familiar(n.name) for n in names if n.kind == "tag"]
        digests = [naming.familiar(n.name) for n in names if n.kind == "digest"]
        if dangling is not None and dangling == bool(tags):
            continue
        created = parse_time(image.created)
        if before is not None and created >= before:
            continue
        if since is not None and created <= since:
            continue
        if patterns:
            tags = [t for t in tags if any(matches_reference(p, t) for p in patterns)]
            digests = [d for d in digests if any(matches_reference(p, d) for p in patterns)]
            if not tags and not digests:
                continue
        labels = _labels(service, image)
        if wanted_labels and not _has_labels(labels, wanted_labels):
            continue
        if not tags and not digests:  # docker 20.10's placeholders for a dangling image
            tags, digests = ["<none>:<none>"], ["<none>@<none>"]
        out.append({
            "Containers": -1,
            "Created": created,
            "Id": image.id,
            "Labels": labels,
            "ParentId": image.parent,
            "RepoDigests": digests or None,  # docker's nil slices
            "RepoTags": tags or None,
            "SharedSize": -1,
            "Size": image.size,
            "VirtualSize": image.size,
        })
    return out
