"""Catalog and tag listing (``/v2/_catalog``, ``/v2/<name>/tags/list``) with Link pagination,
and the v1 search API (``/v1/search``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from pyengine import reference as refs
from pyengine.errors import NotFound
from pyengine.registry.errors import RegistryResponseError
from pyengine.registry.transport import Response

if TYPE_CHECKING:
    from pyengine.registry.client import CatalogPage, RegistryClient

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
MAX_PAGES = 10_000


def catalog(client: RegistryClient, registry: str, n: int | None, last: str | None) -> CatalogPage:
    from pyengine.registry.client import CatalogPage, registry_host

    host = registry_host(registry)
    query = []
    if n is not None:
        query.append(f"n={int(n)}")
    if last:
        query.append(f"last={last}")
    path = "/v2/_catalog" + ("?" + "&".join(query) if query else "")
    response = client.request(
        host, "GET", path, scopes=frozenset({"registry:catalog:*"}),
        headers={"Accept": "application/json"},
    )
    client.raise_for_status(response, f"catalog of {host}")
    with response:
        doc = read_json(response, f"catalog of {host}", client.config.max_manifest_size)
        next_last = next_param(response.header("Link"), "last")
    repositories = doc.get("repositories") or []
    return CatalogPage([str(r) for r in repositories], next_last)


def tags(client: RegistryClient, repo: refs.Reference | str, page_size: int | None) -> list[str]:
    from pyengine.registry.client import pull_scope

    ref = refs.parse_repository(repo) if isinstance(repo, str) else repo
    host = client.endpoints(ref.domain)[-1]
    what = f"tags of {ref.familiar_name()}"
    path = f"/v2/{ref.repository}/tags/list" + (f"?n={page_size}" if page_size else "")
    found: list[str] = []
    for _ in range(MAX_PAGES):
        response = client.request(
            host, "GET", path, scopes=pull_scope(ref.repository),
            headers={"Accept": "application/json"},
        )
        if response.status == 404:
            response.close()
            raise NotFound(f"{what}: repository not found")
        client.raise_for_status(response, what)
        with response:
            doc = read_json(response, what, client.config.max_manifest_size)
            link = response.header("Link")
        found.extend(str(t) for t in doc.get("tags") or [])
        next_url = next_link(link)
        if not next_url:
            break
        path = next_url
    return found


def read_json(response: Response, what: str, limit: int) -> dict:
    try:
        doc = json.loads(response.read(limit))
    except ValueError as exc:
        raise RegistryResponseError(f"{what}: invalid JSON answer ({exc})", 200) from None
    if not isinstance(doc, dict):
        raise RegistryResponseError(f"{what}: answer is not a JSON object", 200)
    return doc


def next_link(link: str | None) -> str | None:
    """Target of a ``Link: <url>; rel="next"`` header."""
    if not link:
        return None
    match = _LINK_NEXT.search(link)
    return match.group(1) if match else None


def next_param(link: str | None, name: str) -> str | None:
    url = next_link(link)
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class SearchResult:
    """One result of a registry's v1 search API, as docker shows it."""

    name: str
    description: str = ""
    star_count: int = 0
    is_official: bool = False
    is_automated: bool = False


def search(client: RegistryClient, registry: str, term: str, limit: int) -> list[SearchResult]:
    """The registry's v1 search (``/v1/search?q=&n=``) as dockerd asks it; a registry without
    it (a 404) is dockerd's error "Unexpected status code 404"."""
    from pyengine.registry.client import registry_host

    host = registry_host(registry)
    response = client.request(host, "GET", f"/v1/search?{urlencode({'q': term, 'n': limit})}",
                              headers={"Accept": "application/json"})
    if response.status != 200:
        response.close()
        raise RegistryResponseError(f"Unexpected status code {response.status}",
                                    response.status)
    with response:
        doc = read_json(response, f"search of {host}", client.config.max_manifest_size)
    return [
        SearchResult(str(r.get("name", "")), str(r.get("description") or ""),
                     int(r.get("star_count") or 0), bool(r.get("is_official")),
                     bool(r.get("is_automated")))
        for r in doc.get("results") or [] if isinstance(r, dict)
    ]
