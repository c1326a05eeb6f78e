"""Image references parsed and normalised by docker's rules.

``busybox`` -> ``docker.io/library/busybox:latest``; ``localhost:5000/x`` keeps its domain;
``name@sha256:...`` is a digest reference (no implied tag). Grammar and normalisation follow
the distribution project's reference package (a first component is a domain when it contains
"." or ":", is "localhost", or has an uppercase letter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pyengine.digest import Digest, InvalidDigest
from pyengine.errors import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(_DOMAIN)
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")


class InvalidReference(InvalidArgument):
    """A string is not a valid image reference."""


@dataclass(frozen=True)
class Reference:
    """A normalised reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Fully qualified repository name, e.g. ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def repository(self) -> str:
        """The repository path used in registry API URLs (``library/busybox``)."""
        return self.path

    @property
    def api_host(self) -> str:
        """Host to contact for this domain (docker.io is served by registry-1.docker.io)."""
        return DOCKER_HUB_API_HOST if self.domain == DEFAULT_DOMAIN else self.domain

    @property
    def object(self) -> str:
        """What to ask the manifests endpoint for: the digest if any, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def familiar_name(self) -> str:
        """Repository name as docker prints it (``busybox``, ``user/app``, ``host:5000/x``)."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(OFFICIAL_REPO_PREFIX):
            rest = self.path[len(OFFICIAL_REPO_PREFIX):]
            if "/" not in rest:
                return rest
        return self.path

    def familiar(self) -> str:
        """Short form as docker prints it, e.g. ``busybox:latest``."""
        return self.familiar_name() + self._suffix()

    def with_tag(self, tag: str) -> Reference:
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(f"invalid tag {tag!r}")
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=str(Digest.parse(digest)))

    def _suffix(self) -> str:
        out = ""
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out

    def __str__(self) -> str:
        return self.name + self._suffix()


def _split_domain(name: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash] if slash != -1 else ""
    if slash == -1 or (
        "." not in first and ":" not in first and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[slash + 1:]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse(value: str, *, default_tag: bool = True) -> Reference:
    """Parse ``value`` with docker's normalisation.

    A reference with neither tag nor digest gets the tag ``latest`` unless ``default_tag``
    is false (useful for repository-only arguments such as ``pyctl push --all-tags``).
    """
    if not value:
        raise InvalidReference("invalid reference format: empty reference")
    if _IDENTIFIER_RE.fullmatch(value):
        raise InvalidReference(
            f"invalid repository name ({value}), cannot specify 64-byte hexadecimal strings"
        )
    rest, _, digest = value.partition("@")
    if "@" in value and not digest:
        raise InvalidReference(f"invalid reference format: {value!r} has an empty digest")
    tag: str | None = None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(f"invalid reference format: invalid tag {tag!r} in {value!r}")
    domain, path = _split_domain(rest)
    if path.lower() != path:
        raise InvalidReference(
            f"invalid reference format: repository name ({path}) must be lowercase"
        )
    if not _DOMAIN_RE.fullmatch(domain):
        raise InvalidReference(f"invalid reference format: invalid domain {domain!r} in {value!r}")
    if not _PATH_RE.fullmatch(path):
        raise InvalidReference(f"invalid reference format: invalid repository name {value!r}")
    if len(domain) + 1 + len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"invalid reference format: repository name must not be more than "
            f"{NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest:
        if not _DIGEST_RE.fullmatch(digest):
            raise InvalidReference(f"invalid reference format: invalid digest {digest!r}")
        try:
            digest = str(Digest.parse(digest))
        except InvalidDigest as exc:
            raise InvalidReference(f"invalid reference format: {exc}") from None
    if tag is None and not digest and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain=domain, path=path, tag=tag, digest=digest or None)


def parse_repository(value: str) -> Reference:
    """Parse a repository name without tag or digest (for catalog/tags)."""
    ref = parse(value, default_tag=False)
    if ref.tag or ref.digest:
        raise InvalidReference(f"{value!r} names a tag or digest, want a repository")
    return ref
