"""Request parameters as docker reads them: `filters` (JSON), boolean query values, JSON
bodies. Each turns a malformed value into docker's 400."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from pyengine.errors import InvalidArgument


def flag(request: web.Request, name: str) -> bool:
    """docker's httputils.BoolValue: anything but "", "0", "no", "false", "none" is true."""
    value = request.query.get(name, "").strip().lower()
    return value not in ("", "0", "no", "false", "none")


def filters(request: web.Request) -> list[str]:
    """`?filters=` as the domains take them: "key=value" items. docker's two encodings:
    {"key": {"value": true}} and the older {"key": ["value"]}."""
    raw = request.query.get("filters", "")
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
    except ValueError as err:
        raise InvalidArgument(f"invalid filter: {err}") from err
    if not isinstance(parsed, dict):
        raise InvalidArgument("invalid filter: not a JSON object")
    out: list[str] = []
    for key, values in parsed.items():
        if isinstance(values, dict):
            chosen = [v for v, on in values.items() if on]
        elif isinstance(values, list):
            chosen = [str(v) for v in values]
        else:
            raise InvalidArgument(f"invalid filter: the values of '{key}' are not a list or "
                                  "an object")
        out.extend(f"{key}={v}" for v in chosen)
    return out


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise InvalidArgument(f"invalid JSON body: {err}") from err
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON body: not an object")
    return body


def mapping(body: dict[str, Any], key: str) -> dict[str, str]:
    """A string -> string object of a body (Labels, Options, DriverOpts); null is empty."""
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"invalid {key}: not an object")
    return {str(k): str(v) for k, v in value.items()}
