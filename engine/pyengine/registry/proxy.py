"""HTTP(S) proxy selection, as dockerd does it (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).

HTTPS registries are reached through a CONNECT tunnel (TLS end to end, the proxy sees only
the host name); plain-HTTP registries through absolute-URI requests. Like Go's
ProxyFromEnvironment, proxies taken from the environment never apply to loopback hosts.
A proxy URL may carry credentials (``http://user:pass@proxy:3128``): they are sent as
Proxy-Authorization and kept out of repr().
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pyengine.errors import InvalidArgument
from pyengine.registry.config import is_loopback, split_host


@dataclass(frozen=True)
class Proxy:
    netloc: str  # host:port of the proxy
    authorization: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ProxySettings:
    http: Proxy | None = None
    https: Proxy | None = None
    no_proxy: tuple[str, ...] = ()
    bypass_loopback: bool = True

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], bypass_loopback: bool) -> ProxySettings:
        """Keys "http", "https", "no_proxy" (dockerd's daemon.json "proxies" spelling too)."""

        def get(*names: str) -> str:
            for name in names:
                if values.get(name):
                    return values[name]
            return ""

        return cls(
            http=parse_proxy_url(get("http", "http-proxy", "http_proxy", "HTTP_PROXY")),
            https=parse_proxy_url(get("https", "https-proxy", "https_proxy", "HTTPS_PROXY")),
            no_proxy=tuple(
                entry.strip().lower()
                for entry in get("no_proxy", "no-proxy", "NO_PROXY").split(",")
                if entry.strip()
            ),
            bypass_loopback=bypass_loopback,
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProxySettings:
        env = os.environ if environ is None else environ
        picked = {
            "http": env.get("HTTP_PROXY") or env.get("http_proxy") or "",
            "https": env.get("HTTPS_PROXY") or env.get("https_proxy") or "",
            "no_proxy": env.get("NO_PROXY") or env.get("no_proxy") or "",
        }
        return cls.from_mapping(picked, bypass_loopback=True)

    def proxy_for(self, scheme: str, netloc: str) -> Proxy | None:
        proxy = self.https if scheme == "https" else self.http
        if proxy is None:
            return None
        if self.bypass_loopback and is_loopback(netloc):
            return None
        if self._excluded(netloc):
            return None
        return proxy

    def _excluded(self, netloc: str) -> bool:
        hostname, port = split_host(netloc.lower())
        for entry in self.no_proxy:
            if entry == "*":
                return True
            entry_host, entry_port = split_host(entry)
            if entry_port is not None and entry_port != port:
                continue
            if "/" in entry_host and _in_cidr(hostname, entry_host):
                return True
            bare = entry_host.lstrip("*").lstrip(".")
            if hostname == bare or hostname.endswith("." + bare):
                return True
        return False


def parse_proxy_url(value: str) -> Proxy | None:
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme != "http":
        raise InvalidArgument(
            f"proxy {parts.scheme}://{parts.hostname}: only http:// proxies are supported"
        )
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port or 80}"
    authorization = None
    if parts.username is not None:
        raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(raw).decode("ascii")
    return Proxy(netloc, authorization)


def _in_cidr(hostname: str, cidr: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(hostname) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
