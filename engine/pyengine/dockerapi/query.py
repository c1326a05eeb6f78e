"""docker's query parameters: booleans ("1", "true", ...) and the `filters` JSON."""

from __future__ import annotations

import json

from aiohttp import web

from pyengine.errors import InvalidArgument

_TRUE = ("1", "true", "True", "TRUE", "yes")


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    return value in _TRUE


def integer(request: web.Request, name: str, default: int = 0) -> int:
    value = request.query.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid value for {name}: {value!r}") from None


def _object(request: web.Request, name: str, what: str) -> dict[str, object]:
    """The query parameter `name` as a JSON object ({} when absent)."""
    text = request.query.get(name, "")
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise InvalidArgument(f"invalid {what}: {err}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid {what}: not a JSON object")
    return doc


def json_strings(request: web.Request, name: str) -> tuple[str, ...]:
    """A query parameter holding a JSON array of strings (cachefrom); () when absent."""
    text = request.query.get(name, "")
    if not text:
        return ()
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise InvalidArgument(f"invalid {name}: {err}") from None
    if not isinstance(doc, list) or not all(isinstance(v, str) for v in doc):
        raise InvalidArgument(f"invalid {name}: not a JSON array of strings")
    return tuple(doc)


def filters(request: web.Request) -> dict[str, list[str]]:
    """`filters={"key":["v",...]}` (or the old {"key":{"v":true}} form) -> key -> values."""
    out: dict[str, list[str]] = {}
    for key, values in _object(request, "filters", "filter").items():
        if isinstance(values, dict):
            out[str(key)] = [str(v) for v, on in values.items() if on]
        elif isinstance(values, list):
            out[str(key)] = [str(v) for v in values]
        else:
            out[str(key)] = [str(values)]
    return out


def filter_items(request: web.Request) -> list[str]:
    """docker's `filters` JSON as the domains' KEY=VALUE items."""
    return [f"{key}={value}" for key, values in filters(request).items() for value in values]


def json_object(request: web.Request, name: str) -> dict[str, str]:
    """A query parameter holding a JSON object of strings (buildargs, labels); null values
    are dropped (docker's buildargs "unset")."""
    doc = _object(request, name, name)
    return {str(k): str(v) for k, v in doc.items() if v is not None}
