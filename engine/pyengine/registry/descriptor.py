"""Descriptors, platforms, and parsing of manifests and indexes (OCI and Docker schema 2)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from pyengine.digest import Digest, InvalidDigest
from pyengine.registry import media_types as mt
from pyengine.registry.errors import InvalidManifest, PlatformNotFound, Schema1Unsupported

_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
}
_KNOWN_OS = {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos"}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    @classmethod
    def parse(cls, spec: str) -> Platform:
        """Parse ``os[/arch[/variant]]`` or a bare ``arch`` (os linux), as --platform takes."""
        parts = [p.strip().lower() for p in spec.split("/")]
        if not spec or any(not p for p in parts) or len(parts) > 3:
            raise ValueError(f"invalid platform {spec!r}: want os/arch[/variant]")
        if len(parts) == 1:
            if parts[0] in _KNOWN_OS:
                return cls(parts[0], host().architecture, host().variant).normalized()
            return cls("linux", parts[0]).normalized()
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "").normalized()

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Platform:
        return cls(
            os=str(doc.get("os", "")),
            architecture=str(doc.get("architecture", "")),
            variant=str(doc.get("variant", "") or ""),
            os_version=str(doc.get("os.version", "") or ""),
        )

    def to_dict(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        return out

    def normalized(self) -> Platform:
        arch, variant = self.architecture.lower(), self.variant.lower()
        if arch in _ARCH_ALIASES:
            arch, default_variant = _ARCH_ALIASES[arch]
            variant = variant or default_variant
        if arch == "arm64" and variant in ("8", "v8"):
            variant = ""
        if arch == "arm" and variant in ("5", "6", "7", "8"):
            variant = "v" + variant
        if arch == "arm" and not variant:
            variant = "v7"
        if arch == "amd64" and variant == "v1":
            variant = ""
        return Platform(self.os.lower(), arch, variant, self.os_version)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def host() -> Platform:
    """The platform this machine runs natively."""
    return Platform("linux", os.uname().machine or "amd64").normalized()


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: Platform | None = None
    artifact_type: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> Descriptor:
        if not isinstance(doc, dict):
            raise InvalidManifest(f"{where}: descriptor is not an object")
        try:
            digest = str(Digest.parse(doc.get("digest", "")))
        except InvalidDigest as exc:
            raise InvalidManifest(f"{where}: {exc}") from None
        size = doc.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidManifest(f"{where}: descriptor {digest} has no valid size")
        platform = doc.get("platform")
        urls = doc.get("urls") or []
        annotations = doc.get("annotations") or {}
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise InvalidManifest(f"{where}: descriptor {digest} has invalid 'urls'")
        if not isinstance(annotations, dict):
            raise InvalidManifest(f"{where}: descriptor {digest} has invalid 'annotations'")
        return cls(
            media_type=str(doc.get("mediaType", "") or ""),
            digest=digest,
            size=size,
            urls=tuple(urls),
            annotations={str(k): str(v) for k, v in annotations.items()},
            platform=Platform.from_dict(platform) if isinstance(platform, dict) else None,
            artifact_type=doc.get("artifactType"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @property
    def short_id(self) -> str:
        return self.digest.split(":", 1)[1][:12]


@dataclass(frozen=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor]


def _load(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidManifest(f"{what}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidManifest(f"{what}: not a JSON object")
    if doc.get("schemaVersion") == 1:
        raise Schema1Unsupported(
            f"{what}: Docker image manifest schema 1 is not supported; "
            "push the image again with a current client (schema 2 or OCI)"
        )
    if doc.get("schemaVersion") != 2:
        raise InvalidManifest(f"{what}: schemaVersion {doc.get('schemaVersion')!r}, want 2")
    return doc


def parse_manifest(data: bytes, media_type: str, what: str = "manifest") -> ImageManifest:
    """Parse an image manifest; every layer's media type must be one we can unpack."""
    doc = _load(data, what)
    config = Descriptor.from_dict(doc.get("config"), f"{what} config")
    layers_doc = doc.get("layers")
    if not isinstance(layers_doc, list):
        raise InvalidManifest(f"{what}: 'layers' is missing or not a list")
    layers = [Descriptor.from_dict(item, f"{what} layer {i}") for i, item in enumerate(layers_doc)]
    return ImageManifest(media_type=media_type, config=config, layers=layers)


def parse_index(data: bytes, what: str = "index") -> list[Descriptor]:
    doc = _load(data, what)
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise InvalidManifest(f"{what}: 'manifests' is missing or not a list")
    return [Descriptor.from_dict(item, f"{what} entry {i}") for i, item in enumerate(manifests)]


def _variant_rank(wanted: Platform, candidate: Platform) -> int | None:
    """0 = exact, higher = compatible fallback (arm v7 runs v6, v5), None = no match."""
    if candidate.variant == wanted.variant:
        return 0
    if wanted.architecture == "arm" and candidate.variant.startswith("v"):
        try:
            want_v, cand_v = int(wanted.variant[1:]), int(candidate.variant[1:])
        except ValueError:
            return None
        return want_v - cand_v if cand_v < want_v else None
    if not wanted.variant:
        return 1
    return None


def select_platform(entries: list[Descriptor], wanted: Platform, what: str) -> Descriptor:
    """Pick the best manifest of an index for ``wanted``."""
    wanted = wanted.normalized()
    best: tuple[int, int, Descriptor] | None = None
    for position, entry in enumerate(entries):
        if entry.media_type and entry.media_type not in mt.MANIFEST_TYPES:
            continue
        if entry.platform is None:
            continue
        candidate = entry.platform.normalized()
        if candidate.os != wanted.os or candidate.architecture != wanted.architecture:
            continue
        rank = _variant_rank(wanted, candidate)
        if rank is None:
            continue
        if best is None or (rank, position) < best[:2]:
            best = (rank, position, entry)
    if best is None:
        available = ", ".join(sorted({str(e.platform) for e in entries if e.platform})) or "none"
        raise PlatformNotFound(
            f"{what}: no matching manifest for {wanted} in the manifest list entries "
            f"(available: {available})"
        )
    return best[2]
