"""Plain records stored in the metadata database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ImageRecord:
    """A local image; `id` is the config digest (docker's image ID)."""

    id: str
    manifest_digest: str
    manifest_media_type: str
    index_digest: str | None
    created: str
    os: str
    architecture: str
    variant: str
    chain_id: str
    size: int
    added_at: str
    last_tag_time: str = ""
    parent: str = ""  # the local image a commit was made from (docker's Parent)


@dataclass(frozen=True)
class NameRecord:
    """A name pointing at an image: kind "tag" (repo:tag) or "digest" (repo@digest)."""

    name: str
    kind: str
    image_id: str
    created_at: str


@dataclass(frozen=True)
class LayerRecord:
    """An unpacked layer: a committed snapshot named by its chain ID."""

    chain_id: str
    diff_id: str
    parent: str | None
    size: int


@dataclass(frozen=True)
class Lease:
    """Protects content and snapshots that an operation in flight has not yet tied to an image."""

    id: str
    purpose: str
    created_at: str
    resources: list[tuple[str, str]] = field(default_factory=list)
