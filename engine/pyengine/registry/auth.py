"""Registry authentication: challenges, Basic credentials and Bearer tokens.

Flow (docker's token auth): a request gets 401 with ``WWW-Authenticate: Bearer realm=...,
service=..., scope=...``; we GET ``realm?service=..&scope=..`` (with Basic credentials when we
have some), cache the token per (host, scopes) until it expires, and retry. A 401 while holding
a token drops it and fetches a new one once (refresh). Secrets never leave this module except
in the Authorization header of a request to the host they belong to.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from pyengine.registry.config import Credentials, RegistryConfig
from pyengine.registry.errors import AccessDenied, AuthenticationFailed, RegistryUnavailable
from pyengine.registry.transport import REQUEST_ERRORS, Transport, redact_url

MIN_TOKEN_LIFETIME = 60.0
#: Username docker stores with an identity (OAuth2 refresh) token instead of a password.
IDENTITY_TOKEN_USER = "<token>"
CLIENT_ID = "pyengine"


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic", "bearer"
    params: dict[str, str] = field(default_factory=dict, hash=False)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate header (RFC 7235) into challenges."""
    challenges: list[Challenge] = []
    i, n = 0, len(header)
    current: Challenge | None = None
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        start = i
        while i < n and header[i] not in " \t,=":
            i += 1
        token = header[start:i]
        if not token:
            break
        j = i
        while j < n and header[j] in " \t":
            j += 1
        if j < n and header[j] == "=" and current is not None:
            i = j + 1
            while i < n and header[i] in " \t":
                i += 1
            value, i = _read_value(header, i)
            current.params[token.lower()] = value
        else:
            current = Challenge(token.lower(), {})
            challenges.append(current)
    return challenges


def _read_value(header: str, i: int) -> tuple[str, int]:
    n = len(header)
    if i < n and header[i] == '"':
        i += 1
        out = []
        while i < n and header[i] != '"':
            if header[i] == "\\" and i + 1 < n:
                i += 1
            out.append(header[i])
            i += 1
        return "".join(out), i + 1
    start = i
    while i < n and header[i] != ",":
        i += 1
    return header[start:i].strip(), i


class Token:
    """A bearer token; its value never appears in repr() or str()."""

    __slots__ = ("_value", "expires_at")

    def __init__(self, value: str, expires_at: float) -> None:
        self._value = value
        self.expires_at = expires_at

    @property
    def value(self) -> str:
        return self._value

    def valid(self, now: float) -> bool:
        return now < self.expires_at - 5

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at:.0f})"

    __str__ = __repr__


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class Authenticator:
    """Per-host auth state shared by the client's threads."""

    def __init__(self, config: RegistryConfig, transport: Transport) -> None:
        self._config = config
        self._transport = transport
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, frozenset[str]], Token] = {}
        self._override: dict[str, Credentials | None] = {}

    def set_credentials(self, host: str, credentials: Credentials | None) -> None:
        """Use these credentials for ``host`` instead of the configured lookup (login)."""
        with self._lock:
            self._override[host] = credentials
            self._tokens = {k: v for k, v in self._tokens.items() if k[0] != host}

    def credentials(self, host: str) -> Credentials | None:
        with self._lock:
            if host in self._override:
                return self._override[host]
        return self._config.lookup_credentials(host)

    def remember_challenge(self, host: str, header: str | None) -> Challenge | None:
        """Record the strongest challenge of a 401 (Bearer over Basic)."""
        if not header:
            return None
        parsed = parse_challenges(header)
        chosen = next((c for c in parsed if c.scheme == "bearer"), None) or next(
            (c for c in parsed if c.scheme == "basic"), None
        )
        if chosen is not None:
            with self._lock:
                self._challenges[host] = chosen
        return chosen

    def challenge(self, host: str) -> Challenge | None:
        with self._lock:
            return self._challenges.get(host)

    def invalidate(self, host: str, scopes: frozenset[str]) -> None:
        with self._lock:
            self._tokens.pop((host, scopes), None)

    def authorization(self, host: str, scopes: frozenset[str]) -> str | None:
        """The Authorization header value for a request to ``host`` needing ``scopes``."""
        challenge = self.challenge(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            credentials = self.credentials(host)
            if credentials is None:
                raise AuthenticationFailed(
                    f"registry {host} requires authentication: no credentials (run login)"
                )
            return basic_header(credentials)
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(host, challenge, scopes).value
        return None

    def _token(self, host: str, challenge: Challenge, scopes: frozenset[str]) -> Token:
        key = (host, scopes)
        now = time.time()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached.valid(now):
            return cached
        token = self.fetch_token(host, challenge, scopes, self.credentials(host))
        with self._lock:
            self._tokens[key] = token
        return token

    def fetch_token(
        self,
        host: str,
        challenge: Challenge,
        scopes: frozenset[str],
        credentials: Credentials | None,
    ) -> Token:
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthenticationFailed(f"registry {host}: Bearer challenge without a realm")
        realm_parts = urlsplit(realm)
        if realm_parts.scheme not in ("https", "http"):
            raise AuthenticationFailed(f"registry {host}: token realm {realm!r} is not a URL")
        if realm_parts.scheme == "http" and not self._config.allows_plain_http(
            realm_parts.netloc
        ):
            raise AuthenticationFailed(
                f"registry {host}: refusing to send credentials to plain-HTTP token realm "
                f"{redact_url(realm)}"
            )
        params: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        params.extend(("scope", scope) for scope in sorted(scopes))
        if credentials is not None:
            params.append(("account", credentials.username))
        headers = {"Accept": "application/json"}
        method, body = "GET", None
        if credentials is not None and credentials.username == IDENTITY_TOKEN_USER:
            # docker's identity token (from a login): an OAuth2 refresh token, POSTed.
            method, url = "POST", realm
            form = [("grant_type", "refresh_token"), ("refresh_token", credentials.password),
                    ("client_id", CLIENT_ID)]
            if challenge.params.get("service"):
                form.append(("service", challenge.params["service"]))
            if scopes:
                form.append(("scope", " ".join(sorted(scopes))))
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            url = realm + ("&" if realm_parts.query else "?") + urlencode(params)
            if credentials is not None:
                headers["Authorization"] = basic_header(credentials)
        attempts = max(1, self._config.max_attempts)
        for attempt in range(attempts):
            try:
                with self._transport.request(method, url, headers=headers, body=body) as response:
                    answer = response.read(1 << 20)
                    status = response.status
            except REQUEST_ERRORS as exc:
                if attempt == attempts - 1:
                    raise RegistryUnavailable(
                        f"token server {redact_url(realm)} for {host}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from None
            else:
                if status not in (429, 500, 502, 503, 504) or attempt == attempts - 1:
                    break
            delay = self._config.backoff_initial * (2**attempt)
            time.sleep(min(self._config.backoff_max, delay))
        if credentials is None:
            who = "anonymous access"
        elif credentials.username == IDENTITY_TOKEN_USER:
            who = "the identity token"
        else:
            who = f"user {credentials.username!r}"
        if status == 401:
            raise AuthenticationFailed(
                f"authentication to {host} failed for {who}: token server "
                f"{redact_url(realm)} answered 401 (wrong username or password?)"
            )
        if status == 403:
            raise AccessDenied(f"token server {redact_url(realm)} denied {who} for {host}")
        if status != 200:
            raise RegistryUnavailable(
                f"token server {redact_url(realm)} for {host} answered HTTP {status}"
            )
        try:
            doc = json.loads(answer)
            value = doc.get("token") or doc.get("access_token")
            expires_in = float(doc.get("expires_in") or MIN_TOKEN_LIFETIME)
        except (ValueError, AttributeError, TypeError):
            value, expires_in = None, 0.0
        if not isinstance(value, str) or not value:
            raise AuthenticationFailed(
                f"token server {redact_url(realm)} for {host} sent no token in its answer"
            )
        return Token(value, time.time() + max(expires_in, MIN_TOKEN_LIFETIME))
