"""Image names as the metadata stores them: fully qualified "repo:tag" and "repo@digest"."""

from __future__ import annotations

import re

from pyengine import reference
from pyengine.errors import InvalidArgument

ID_RE = re.compile(r"^(sha256:)?([0-9a-f]{4,64})$")


def parse(text: str) -> reference.Reference:
    """Parse a user-given reference with docker's normalisation (errors: InvalidArgument)."""
    try:
        return reference.parse(text)
    except InvalidArgument:
        raise
    except (ValueError, TypeError) as err:
        raise InvalidArgument(f"invalid reference format: {text!r}: {err}") from err


def repository(ref: reference.Reference) -> str:
    """Fully qualified repository: "docker.io/library/busybox"."""
    return f"{ref.domain}/{ref.path}"


def tag_name(ref: reference.Reference) -> str:
    return f"{repository(ref)}:{ref.tag or 'latest'}"


def digest_name(repo: str, digest: str) -> str:
    return f"{repo}@{digest}"


def split_name(name: str) -> tuple[str, str, str]:
    """Split a stored name into (repository, tag, digest); missing parts are ""."""
    if "@" in name:
        repo, digest = name.split("@", 1)
        return repo, "", digest
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "", ""
    return repo, tag, ""


def familiar_repository(repo: str) -> str:
    """Docker's short form: "docker.io/library/busybox" -> "busybox"."""
    if repo.startswith("docker.io/"):
        repo = repo[len("docker.io/"):]
        if repo.startswith("library/") and repo.count("/") == 1:
            repo = repo[len("library/"):]
    return repo


def familiar(name: str) -> str:
    """Short form of a stored name: "docker.io/library/busybox:latest" -> "busybox:latest"."""
    repo, tag, digest = split_name(name)
    short = familiar_repository(repo)
    if digest:
        return f"{short}@{digest}"
    return f"{short}:{tag}" if tag else short


def looks_like_id(text: str) -> str | None:
    """The hex part if `text` could be an image ID or ID prefix, else None."""
    match = ID_RE.match(text)
    return match.group(2) if match else None


def short_id(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]
