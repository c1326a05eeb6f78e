"""docker's JSON request bodies: the object a request carries and its string maps."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from pyengine.errors import InvalidArgument


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for no body, an empty one or null)."""
    if not request.can_read_body:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError as err:
        raise InvalidArgument(f"invalid JSON: {err}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: the body must be an object")
    return body


def go_fields(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The body with its keys matched to docker's field `names` as Go's encoding/json matches
    them: an exact key first, else one equal to the name but for case (docker-py sends exec's
    `detachKeys`, which dockerd takes for DetachKeys)."""
    canonical = {name.lower(): name for name in names}
    out = dict(body)
    for key, value in body.items():
        name = canonical.get(key.lower())
        if name is not None and name != key and name not in body:
            out.setdefault(name, value)
    return out


def mapping(body: dict[str, Any], key: str) -> dict[str, str]:
    """A string -> string object of a body (Labels, Options, DriverOpts); null is empty."""
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"invalid {key}: not an object")
    return {str(k): str(v) for k, v in value.items()}
