"""Registry credentials in request headers: X-Registry-Auth (one registry: base64url JSON
{username, password, serveraddress, identitytoken}) and X-Registry-Config (a build's: base64url
JSON mapping registry -> the same). Used for the one call, never stored."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from pyengine.images.service import RegistryAuth


def _decode(text: str) -> Any:
    """The header's JSON; None when absent or unreadable (dockerd then goes on without
    credentials: "for a pull it is not an error if no auth was given")."""
    text = text.strip()
    if not text:
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")))
    except (binascii.Error, ValueError):
        return None


def _auth(doc: Any, server: str = "") -> RegistryAuth | None:
    if not isinstance(doc, dict):
        return None
    auth = RegistryAuth(
        server_address=str(doc.get("serveraddress") or server),
        username=str(doc.get("username") or ""),
        password=str(doc.get("password") or ""),
        identity_token=str(doc.get("identitytoken") or ""),
    )
    if not (auth.username or auth.password or auth.identity_token):
        return None
    return auth


def registry_auth(request: web.Request) -> RegistryAuth | None:
    """The X-Registry-Auth header's credentials, if any."""
    return _auth(_decode(request.headers.get("X-Registry-Auth", "")))


def registry_config(request: web.Request) -> tuple[RegistryAuth, ...]:
    """The X-Registry-Config header's credentials, one per registry."""
    doc = _decode(request.headers.get("X-Registry-Config", ""))
    if not isinstance(doc, dict):
        return ()
    found = (_auth(entry, str(server)) for server, entry in doc.items())
    return tuple(a for a in found if a is not None)
