"""Registry client configuration (what dockerd's daemon.json and certs.d provide)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CERTS_DIR = Path("/etc/pyengine/certs.d")


@dataclass(frozen=True)
class Credentials:
    """A username and a secret; the secret never appears in repr() or str()."""

    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"Credentials(username={self.username!r})"


CredentialsLookup = Callable[[str], "tuple[str, str] | Credentials | None"]


@dataclass
class RegistryConfig:
    """How to reach registries.

    insecure_registries: "host[:port]" names or CIDRs (e.g. "10.0.0.0/8") that may be reached
        over plain HTTP when HTTPS fails; loopback hosts are always allowed, as in dockerd.
    mirrors: registry domain -> mirror base URLs tried first for pulls (dockerd's
        ``registry-mirrors`` are ``{"docker.io": [...]}``).
    certs_dir: docker layout: <certs_dir>/<host[:port]>/{*.crt, client.cert, client.key}.
    credentials: ``(registry_host) -> (username, password) | None``.
    proxies: {"http": URL, "https": URL, "no_proxy": "a,b"}; None takes HTTP_PROXY,
        HTTPS_PROXY and NO_PROXY from the environment (never for loopback hosts).
    """

    insecure_registries: list[str] = field(default_factory=list)
    mirrors: dict[str, list[str]] = field(default_factory=dict)
    certs_dir: Path | None = DEFAULT_CERTS_DIR
    credentials: CredentialsLookup | None = field(default=None, repr=False)
    proxies: dict[str, str] | None = field(default=None, repr=False)
    user_agent: str = "pyengine/0.1"
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_initial: float = 0.25
    backoff_max: float = 8.0
    read_chunk_size: int = 1 << 20
    upload_monolithic_max: int = 16 << 20
    upload_chunk_size: int = 16 << 20
    max_manifest_size: int = 4 << 20

    def lookup_credentials(self, host: str) -> Credentials | None:
        if self.credentials is None:
            return None
        found = self.credentials(host)
        if found is None:
            return None
        if isinstance(found, Credentials):
            return found
        username, password = found
        return Credentials(username, password)

    def allows_plain_http(self, host: str) -> bool:
        """Loopback hosts and configured insecure registries may use plain HTTP."""
        if is_loopback(host):
            return True
        hostname = split_host(host)[0]
        for entry in self.insecure_registries:
            if entry in (host, hostname):
                return True
            if "/" in entry and _in_cidr(hostname, entry):
                return True
        return False


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (with or without a port)."""
    hostname = split_host(host)[0]
    return hostname == "localhost" or _is_loopback(hostname)


def split_host(host: str) -> tuple[str, int | None]:
    """"h:p" -> ("h", p); handles "[::1]:5000"."""
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1:]
        return name, int(rest[1:]) if rest.startswith(":") else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return host, None


def _is_loopback(hostname: str) -> bool:
    parts = hostname.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
        return parts[0] == "127"
    if ":" not in hostname:
        return False  # a DNS name (only "localhost" counts, checked by the caller)
    import ipaddress  # IPv6 only: keeps the module off the common path

    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _in_cidr(hostname: str, cidr: str) -> bool:
    try:
        import ipaddress

        return ipaddress.ip_address(hostname) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
