"""RegistryClient: the OCI distribution API (resolve, pull, push, catalog, tags, login).

One client is shared by the daemon's threads: connections are pooled per origin, the HTTP
scheme of each registry is decided once (HTTPS first; plain HTTP only for loopback and
configured insecure registries), and auth state (challenges, tokens) is cached per host.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from pyengine import reference as refs
from pyengine.content import ContentStore
from pyengine.digest import Digest
from pyengine.errors import EngineError
from pyengine.registry import _log as log
from pyengine.registry import media_types as mt
from pyengine.registry.auth import Authenticator
from pyengine.registry.config import RegistryConfig, is_loopback
from pyengine.registry.descriptor import (
    Descriptor,
    Platform,
    parse_index,
    select_platform,
)
from pyengine.registry.descriptor import host as host_platform
from pyengine.registry.errors import (
    AccessDenied,
    AuthenticationFailed,
    BlobUnknown,
    ContentMismatch,
    InsecureRegistry,
    InvalidManifest,
    ManifestUnknown,
    RegistryResponseError,
    RegistryUnavailable,
    Schema1Unsupported,
    UnsupportedMediaType,
)
from pyengine.registry.progress import ProgressCallback

if TYPE_CHECKING:
    from pyengine.registry.listing import SearchResult
    from pyengine.registry.push import MountSources
from pyengine.registry.transport import (
    NETWORK_ERRORS,
    REQUEST_ERRORS,
    Body,
    Response,
    Transport,
    redact_url,
)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Resolved:
    """What a reference resolves to on a registry.

    ``descriptor``/``manifest_bytes``/``media_type`` describe the image manifest for the
    selected platform; when the reference named an index or manifest list, ``index`` and
    ``index_bytes`` describe that (docker's RepoDigest is then the index digest).
    """

    ref: refs.Reference
    descriptor: Descriptor
    manifest_bytes: bytes
    media_type: str
    index: Descriptor | None = None
    index_bytes: bytes | None = None
    endpoint: str = ""

    @property
    def top_digest(self) -> str:
        return self.index.digest if self.index else self.descriptor.digest


@dataclass(frozen=True)
class PullResult:
    ref: refs.Reference
    manifest_digest: str
    config_digest: str
    layers: list[Descriptor]
    index_digest: str | None
    manifest_media_type: str = ""
    config_media_type: str = ""
    platform: Platform | None = None
    endpoint: str = ""


@dataclass(frozen=True)
class PushResult:
    ref: refs.Reference
    digest: str
    size: int
    media_type: str
    blobs: tuple[str, ...] = ()  # the blobs the repository holds now (found, mounted, sent)


@dataclass(frozen=True)
class CatalogPage:
    repositories: list[str]
    next_last: str | None


def pull_scope(repository: str) -> frozenset[str]:
    return frozenset({f"repository:{repository}:pull"})


def push_scope(repository: str) -> frozenset[str]:
    return frozenset({f"repository:{repository}:pull,push"})


def registry_host(name: str) -> str:
    """Registry API host for a login/search name (docker.io -> registry-1.docker.io)."""
    name = name.strip()
    if "://" in name:
        name = urlsplit(name).netloc
    name = name.rstrip("/")
    if name in ("docker.io", "index.docker.io", "registry-1.docker.io", ""):
        return refs.DOCKER_HUB_API_HOST
    return name


def _error_codes(body: bytes) -> tuple[tuple[str, ...], str]:
    """Registry error codes and a short message from an error body."""
    try:
        doc = json.loads(body)
        errors = doc.get("errors") or []
        codes = tuple(str(e.get("code", "")) for e in errors if isinstance(e, dict))
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
        return codes, "; ".join(m for m in messages if m)
    except (ValueError, AttributeError):
        return (), ""


def _not_found(response: Response) -> str:
    """A 404's registry errors as docker shows them: "manifest unknown: manifest unknown"
    (each code lowercased with spaces, then its message)."""
    try:
        body = response.read(64 * 1024)
    except REQUEST_ERRORS:
        body = b""
    response.close()
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    shown = [f"{str(e.get('code', '')).lower().replace('_', ' ')}: {e.get('message', '')}"
             for e in errors if isinstance(e, dict) and e.get("code")]
    return "; ".join(shown) or "manifest unknown"


class RegistryClient:
    """A client for OCI distribution registries."""

    def __init__(self, config: RegistryConfig | None = None) -> None:
        self.config = config or RegistryConfig()
        self.transport = Transport(self.config)
        self.auth = Authenticator(self.config, self.transport)
        self._schemes: dict[str, str] = {}
        self._scheme_lock = threading.Lock()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------
    def endpoints(self, domain: str) -> list[str]:
        """Hosts to try for pulls from ``domain``: its mirrors first, then itself."""
        hosts = []
        for mirror in self.config.mirrors.get(domain, []):
            parts = urlsplit(mirror if "://" in mirror else f"https://{mirror}")
            with self._scheme_lock:
                self._schemes.setdefault(parts.netloc, parts.scheme)
            hosts.append(parts.netloc)
        hosts.append(refs.DOCKER_HUB_API_HOST if domain == refs.DEFAULT_DOMAIN else domain)
        return hosts

    def base_url(self, host: str) -> str:
        with self._scheme_lock:
            scheme = self._schemes.get(host)
        if scheme is None:
            scheme = self._ping(host)
            with self._scheme_lock:
                self._schemes[host] = scheme
        if scheme == "http" and not self.config.allows_plain_http(host):
            raise InsecureRegistry(
                f"registry {host}: plain HTTP is only allowed for loopback and configured "
                "insecure registries"
            )
        return f"{scheme}://{host}"

    def _ping(self, host: str) -> str:
        """Decide the scheme for ``host`` with ``GET /v2/`` and record its auth challenge."""
        errors: list[str] = []
        schemes = ["https"]
        if self.config.allows_plain_http(host):
            schemes.append("http")
        if is_loopback(host):
            # Local registries are nearly always plain HTTP: ask that first (anonymously) and
            # skip a TLS handshake bound to fail. A TLS port answers 400 and we go on to HTTPS.
            schemes.reverse()
        for scheme in schemes:
            url = f"{scheme}://{host}/v2/"
            attempts = self.config.max_attempts
            for attempt in range(attempts):
                try:
                    with self.transport.request("GET", url) as response:
                        if response.status == 401:
                            self.auth.remember_challenge(
                                host, response.header("WWW-Authenticate")
                            )
                        if response.status in RETRY_STATUSES and attempt < attempts - 1:
                            self.backoff(attempt, response)
                            continue
                        if scheme == "http" and response.status == 400:
                            errors.append("http: 400 (a TLS port?)")
                            break
                        return scheme
                except ssl.SSLCertVerificationError as exc:
                    raise RegistryUnavailable(
                        f"registry {host}: TLS certificate verification failed "
                        f"({exc.verify_message}); put its CA in "
                        f"{self.config.certs_dir}/{host}/ca.crt"
                    ) from None
                except ssl.SSLError as exc:
                    errors.append(f"{scheme}: {exc.reason or exc}")
                    break
                except NETWORK_ERRORS as exc:
                    if isinstance(exc, ConnectionRefusedError) or attempt == attempts - 1:
                        errors.append(f"{scheme}: {type(exc).__name__}: {exc}")
                        break
                    self.backoff(attempt, None)
        hint = ""
        if not self.config.allows_plain_http(host):
            hint = " (plain HTTP not tried: not loopback and not in insecure registries)"
        raise RegistryUnavailable(f"registry {host}: cannot connect: {'; '.join(errors)}{hint}")

    def backoff(self, attempt: int, response: Response | None = None) -> None:
        """Sleep before retry number ``attempt``: exponential, jittered, honours Retry-After."""
        delay = min(self.config.backoff_max, self.config.backoff_initial * (2**attempt))
        delay *= 0.5 + int.from_bytes(os.urandom(2), "big") / 131070  # jitter
        retry_after = response.header("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = min(self.config.backoff_max, max(delay, float(retry_after)))
        time.sleep(delay)

    # -- requests ----------------------------------------------------------------------------
    def request(
        self,
        host: str,
        method: str,
        path_or_url: str,
        *,
        scopes: frozenset[str] = frozenset(),
        headers: dict[str, str] | None = None,
        body: Body = None,
        body_length: int | None = None,
        retry: bool = True,
    ) -> Response:
        """Send a request to ``host`` with auth, retries (5xx, 429, resets) and redirects."""
        base = self.base_url(host)
        url = path_or_url if "://" in path_or_url else base + path_or_url
        attempt = 0
        auth_tries = 0
        redirects = 0
        while True:
            send = dict(headers or {})
            target = urlsplit(url).netloc
            if target == host:
                authorization = self.auth.authorization(host, scopes)
                if authorization:
                    send["Authorization"] = authorization
            try:
                response = self.transport.request(method, url, send, body, body_length)
            except NETWORK_ERRORS as exc:
                if retry and attempt < self.config.max_attempts - 1:
                    log.info("%s %s failed (%s), retrying", method, redact_url(url), exc)
                    self.backoff(attempt, None)
                    attempt += 1
                    continue
                raise RegistryUnavailable(
                    f"{method} {redact_url(url)}: {type(exc).__name__}: {exc}"
                ) from None
            status = response.status
            if status == 401 and target == host and auth_tries < 2:
                auth_tries += 1
                challenge = self.auth.remember_challenge(
                    host, response.header("WWW-Authenticate")
                )
                response.close()
                if challenge is None:
                    raise AuthenticationFailed(
                        f"{method} {redact_url(url)}: 401 without a usable WWW-Authenticate"
                    )
                if challenge.scheme == "bearer" and challenge.params.get("scope"):
                    scopes = scopes | frozenset(challenge.params["scope"].split(" "))
                self.auth.invalidate(host, scopes)
                continue
            if status in RETRY_STATUSES and retry and attempt < self.config.max_attempts - 1:
                log.info("%s %s -> %d, retrying", method, redact_url(url), status)
                self.backoff(attempt, response)
                response.close()
                attempt += 1
                continue
            if status in REDIRECT_STATUSES and method in ("GET", "HEAD"):
                location = response.header("Location")
                response.close()
                if not location or redirects >= MAX_REDIRECTS:
                    raise RegistryResponseError(
                        f"{method} {redact_url(url)}: too many or empty redirects", status
                    )
                url = urljoin(url, location)
                parts = urlsplit(url)
                if parts.scheme == "http" and not self.config.allows_plain_http(parts.netloc):
                    raise InsecureRegistry(
                        f"{method}: registry {host} redirected to plain-HTTP {redact_url(url)}"
                    )
                redirects += 1
                continue
            return response

    def raise_for_status(self, response: Response, what: str) -> None:
        """Turn a non-2xx response into a typed error naming ``what``."""
        status = response.status
        if 200 <= status < 300:
            return
        try:
            body = response.read(64 * 1024) if response.status != 304 else b""
        except REQUEST_ERRORS:
            body = b""
        response.close()
        codes, message = _error_codes(body)
        code_text = ", " + ",".join(codes) if codes else ""
        detail = f"{message or response.reason} (HTTP {status}{code_text})"
        if status == 404 and "BLOB_UNKNOWN" in codes:
            raise BlobUnknown(f"{what}: blob unknown: {detail}")
        if status == 404:
            raise ManifestUnknown(f"{what}: not found: {detail}")
        if status == 401:
            raise AuthenticationFailed(
                f"{what}: access denied, repository does not exist or may require login: {detail}"
            )
        if status == 407:
            raise AuthenticationFailed(
                f"{what}: the HTTP proxy requires authentication or refused its credentials "
                f"(HTTP 407)"
            )
        if status == 403:
            raise AccessDenied(f"{what}: denied: {detail}")
        if status >= 500 or status == 429:
            raise RegistryUnavailable(f"{what}: registry error after retries: {detail}")
        raise RegistryResponseError(f"{what}: {detail}", status, codes)

    # -- manifests ---------------------------------------------------------------------------
    def fetch_manifest(
        self, host: str, repository: str, obj: str, expected: str | None, what: str
    ) -> tuple[bytes, str, str]:
        """GET a manifest or index; returns (bytes, media type, digest), verified."""
        response = self.request(
            host,
            "GET",
            f"/v2/{repository}/manifests/{obj}",
            scopes=pull_scope(repository),
            headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        if response.status == 404:
            raise ManifestUnknown(f"manifest for {what} not found: {_not_found(response)}")
        self.raise_for_status(response, f"fetch manifest for {what}")
        with response:
            try:
                data = response.read(self.config.max_manifest_size)
            except ValueError as exc:
                raise InvalidManifest(f"manifest for {what}: {exc}") from None
            except NETWORK_ERRORS as exc:
                raise RegistryUnavailable(f"fetch manifest for {what}: {exc}") from None
            content_type = response.header("Content-Type")
            header_digest = response.header("Docker-Content-Digest")
        algorithm = Digest.parse(expected).algorithm if expected else "sha256"
        actual = str(Digest.from_bytes(data, algorithm))
        if expected and actual != expected:
            raise ContentMismatch(
                f"manifest for {what}: content digest {actual} does not match {expected}"
            )
        if header_digest and header_digest.startswith(algorithm + ":") and header_digest != actual:
            raise ContentMismatch(
                f"manifest for {what}: registry says {header_digest}, content is {actual}"
            )
        media_type = mt.detect_manifest_type(data, content_type)
        if media_type in mt.SCHEMA1_TYPES:
            raise Schema1Unsupported(
                f"manifest for {what}: Docker image manifest schema 1 ({media_type}) is not "
                "supported; push the image again with a current client (schema 2 or OCI)"
            )
        if media_type is None:
            raise InvalidManifest(f"manifest for {what}: not a JSON document")
        return data, media_type, actual

    def resolve(
        self, ref: refs.Reference | str, platform: Platform | str | None = None
    ) -> Resolved:
        """Resolve a reference to the image manifest for ``platform`` (default: this host)."""
        ref = refs.parse(ref) if isinstance(ref, str) else ref
        wanted = Platform.parse(platform) if isinstance(platform, str) else platform
        hosts = self.endpoints(ref.domain)
        for position, host in enumerate(hosts):
            try:
                return self._resolve_at(host, ref, wanted)
            except (
                RegistryUnavailable,
                AuthenticationFailed,
                AccessDenied,
                ManifestUnknown,
                InsecureRegistry,
                RegistryResponseError,
            ) as exc:
                if position == len(hosts) - 1:
                    raise
                log.warning("mirror %s failed for %s (%s); trying the next", host, ref, exc)
        raise AssertionError("unreachable")

    def _resolve_at(
        self, host: str, ref: refs.Reference, wanted: Platform | None
    ) -> Resolved:
        what = ref.familiar()
        data, media_type, digest = self.fetch_manifest(
            host, ref.repository, ref.object, ref.digest, what
        )
        top = Descriptor(media_type, digest, len(data))
        if media_type in mt.MANIFEST_TYPES:
            return Resolved(ref, top, data, media_type, endpoint=host)
        if media_type not in mt.INDEX_TYPES:
            raise UnsupportedMediaType(
                f"manifest for {what}: media type {media_type!r} is not an image manifest "
                "or index this client supports"
            )
        entries = parse_index(data, f"index of {what}")
        chosen = select_platform(entries, wanted or host_platform(), f"{what} ({digest})")
        child, child_type, child_digest = self.fetch_manifest(
            host, ref.repository, chosen.digest, chosen.digest, f"{what}@{chosen.digest}"
        )
        if child_type not in mt.MANIFEST_TYPES:
            raise UnsupportedMediaType(
                f"manifest {chosen.digest} of {what}: media type {child_type!r} is not an "
                "image manifest"
            )
        descriptor = Descriptor(
            child_type,
            child_digest,
            len(child),
            annotations=chosen.annotations,
            platform=chosen.platform,
        )
        return Resolved(ref, descriptor, child, child_type, top, data, endpoint=host)

    # -- pull / push (implemented in their own modules) --------------------------------------
    def pull(
        self,
        ref: refs.Reference | str,
        store: ContentStore,
        platform: Platform | str | None = None,
        progress: ProgressCallback | None = None,
        max_workers: int = 4,
    ) -> PullResult:
        """Fetch index, manifest, config and layers into ``store``, verifying each."""
        from pyengine.registry.pull import pull

        return pull(self, ref, store, platform, progress, max_workers)

    def push(
        self,
        ref: refs.Reference | str,
        store: ContentStore,
        manifest_digest: str,
        progress: ProgressCallback | None = None,
        mount_from: list[str] | None = None,
        max_workers: int = 3,
        sources: MountSources | None = None,
    ) -> PushResult:
        """Push a manifest or index (and everything it references) from ``store``.

        ``mount_from``: repositories on the same registry that may already hold the blobs;
        ``sources``: per blob, the repositories known to hold it (tried first). Each blob the
        registry lacks is first offered as a cross-repository mount from them.
        """
        from pyengine.registry.push import push

        return push(
            self, ref, store, manifest_digest, progress, mount_from or [], max_workers, sources
        )

    # -- listing and login (implemented in their own modules) --------------------------------
    def catalog(self, registry: str, n: int | None = None, last: str | None = None) -> CatalogPage:
        """One page of the registry's catalog (``n`` entries after ``last``)."""
        from pyengine.registry.listing import catalog

        return catalog(self, registry, n, last)

    def search(self, registry: str, term: str, limit: int) -> list[SearchResult]:
        """The registry's v1 search API (dockerd's `docker search`)."""
        from pyengine.registry.listing import search

        return search(self, registry, term, limit)

    def tags(self, repo: refs.Reference | str, page_size: int | None = None) -> list[str]:
        """All tags of a repository (following pagination)."""
        from pyengine.registry.listing import tags

        return tags(self, repo, page_size)

    def check_login(self, registry: str, username: str, password: str) -> str:
        """Verify credentials against ``registry``; remember them in this client on success.

        Returns the registry host. Raises AuthenticationFailed when they are refused.
        """
        from pyengine.registry.login import check_login

        return check_login(self, registry, username, password)


__all__ = [
    "CatalogPage",
    "EngineError",
    "PullResult",
    "PushResult",
    "RegistryClient",
    "Resolved",
    "registry_host",
]
