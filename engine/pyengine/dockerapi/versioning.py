"""API versions: docker 20.10's range. A path may carry `/v1.NN/`; without it the newest
applies. Clients newer than the daemon are refused with docker's text (the docker CLI and
docker-py negotiate down through /_ping or /version first)."""

from __future__ import annotations

API_VERSION = "1.41"
MIN_API_VERSION = "1.12"


def parse(text: str) -> tuple[int, int] | None:
    """"1.41" -> (1, 41); None if it is not a version."""
    major, dot, minor = text.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        return None
    return int(major), int(minor)


def check(requested: str) -> str | None:
    """docker's refusal for a version outside the range, or None."""
    wanted = parse(requested)
    if wanted is None:
        return f"invalid API version: {requested}"  # not reached: the route pattern is strict
    if wanted > (parse(API_VERSION) or (1, 41)):
        return (f"client version {requested} is too new. Maximum supported API version is "
                f"{API_VERSION}")
    if wanted < (parse(MIN_API_VERSION) or (1, 12)):
        return (f"client version {requested} is too old. Minimum supported API version is "
                f"{MIN_API_VERSION}, please upgrade your client to a newer version")
    return None


def at_least(request_version: str, version: str) -> bool:
    """The request's API version is `version` or newer (docker's versions.GreaterThanOrEqualTo)."""
    return (parse(request_version) or (0, 0)) >= (parse(version) or (0, 0))
