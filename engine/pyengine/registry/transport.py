"""HTTP transport over the standard library's http.client.

Why not a third-party HTTP library: the registry protocol needs only a handful of things
(keep-alive connections, streamed bodies read into our own buffers, Range, redirects we
follow ourselves so that Authorization is never forwarded to another host, per-registry TLS
contexts from a docker-style certs.d). http.client gives exactly those without adding a
dependency to a daemon that runs as root, and keeps the hot path (socket -> buffer -> hash ->
file) free of extra copies.

This module knows nothing about auth or registries: it sends one request to one URL over a
pooled connection and hands back a streaming ``Response``.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from pyengine.registry import _log as log
from pyengine.registry.config import RegistryConfig
from pyengine.registry.proxy import Proxy, ProxySettings

#: Errors after which a request may be retried on a fresh connection.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    socket.timeout,
    TimeoutError,
    ssl.SSLEOFError,
)
#: Any failure of the connection or the peer (for `except`, which takes no starred tuple).
NETWORK_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, OSError)
#: The same plus ValueError, which http.client raises for a malformed request or a read on a
#: response whose connection went away.
REQUEST_ERRORS: tuple[type[BaseException], ...] = (*NETWORK_ERRORS, ValueError)



class Upload(Protocol):
    """A request body sent in blocks (an open file, or a window of one); closed once sent."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


#: bytes, or a function opening the body afresh for each attempt
Body = bytes | Callable[[], Upload] | None


def redact_url(url: str) -> str:
    """URL without query string or userinfo, for logs and error messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Origin:
    scheme: str
    netloc: str

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        return cls(parts.scheme, parts.netloc)


class Response:
    """A streaming HTTP response; ``close()`` returns its connection to the pool."""

    def __init__(
        self, transport: Transport, origin: Origin, conn: http.client.HTTPConnection,
        raw: http.client.HTTPResponse, url: str,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._conn: http.client.HTTPConnection | None = conn
        self._raw = raw
        self.url = url
        self.status: int = raw.status
        self.reason: str = raw.reason
        self.headers = raw.headers

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def read1(self, size: int) -> bytes:
        """Up to ``size`` bytes with at most one socket read (b"" at the end of the body)."""
        return self._raw.read1(size)

    def read(self, limit: int | None = None) -> bytes:
        """Read the whole body (refusing more than ``limit`` bytes)."""
        if limit is None:
            return self._raw.read()
        data = self._raw.read(limit + 1)
        if len(data) > limit:
            self.discard()
            raise ValueError(f"response from {redact_url(self.url)} exceeds {limit} bytes")
        return data

    def discard(self) -> None:
        """Close without reusing the connection (body not fully read)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._raw.close()

    def close(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        reusable = False
        if not self._raw.isclosed():
            length = self._raw.length
            if length is not None and length <= 64 * 1024:
                try:
                    self._raw.read()
                    reusable = not self._raw.will_close
                except NETWORK_ERRORS:
                    reusable = False
        else:
            reusable = not self._raw.will_close
        self._raw.close()
        if reusable:
            self._transport._release(self._origin, conn)
        else:
            conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _PlainHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP; through a proxy its requests carry the absolute URI and Proxy-Authorization."""

    proxy: Proxy | None = None


class Transport:
    """Pooled keep-alive connections, one TLS context per registry host."""

    def __init__(self, config: RegistryConfig) -> None:
        self.config = config
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        if config.proxies is not None:
            self.proxies = ProxySettings.from_mapping(config.proxies, bypass_loopback=False)
        else:
            self.proxies = ProxySettings.from_environment()

    def tls_context(self, netloc: str) -> ssl.SSLContext:
        """The TLS context for a registry host, shared by every client of the process while
        its certs.d directory is unchanged (loading the system CA bundle costs ~20-40 ms)."""
        certs_dir = self.config.certs_dir
        host_dir = Path(certs_dir) / netloc if certs_dir else None
        key = (str(host_dir) if host_dir else "", netloc)
        signature = _dir_signature(host_dir)
        with _TLS_CACHE_LOCK:
            cached = _TLS_CACHE.get(key)
            if cached is not None and cached[0] == signature:
                return cached[1]
        context = self._build_tls_context(netloc)
        with _TLS_CACHE_LOCK:
            _TLS_CACHE[key] = (signature, context)
        return context

    def _build_tls_context(self, netloc: str) -> ssl.SSLContext:
        context = ssl.create_default_context()
        certs_dir = self.config.certs_dir
        host_dir = Path(certs_dir) / netloc if certs_dir else None
        if host_dir is not None and host_dir.is_dir():
            for ca_file in sorted(host_dir.glob("*.crt")):
                context.load_verify_locations(cafile=str(ca_file))
            for cert_file in sorted(host_dir.glob("*.cert")):
                key_file = cert_file.with_suffix(".key")
                if not key_file.exists():
                    raise FileNotFoundError(
                        f"client certificate {cert_file} has no matching key {key_file}"
                    )
                context.load_cert_chain(str(cert_file), str(key_file))
        return context

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        timeout = self.config.read_timeout
        blocksize = self.config.read_chunk_size
        proxy = self.proxies.proxy_for(origin.scheme, origin.netloc)
        address = proxy.netloc if proxy else origin.netloc
        conn: http.client.HTTPConnection
        if origin.scheme == "https":
            conn = http.client.HTTPSConnection(
                address,
                timeout=timeout,
                context=self.tls_context(origin.netloc),
                blocksize=blocksize,
            )
            if proxy is not None:  # CONNECT tunnel; TLS (and SNI) still to the registry
                tunnel_headers = {}
                if proxy.authorization:
                    tunnel_headers["Proxy-Authorization"] = proxy.authorization
                conn.set_tunnel(origin.netloc, headers=tunnel_headers)
        elif origin.scheme == "http":
            conn = _PlainHTTPConnection(address, timeout=timeout, blocksize=blocksize)
            conn.proxy = proxy
        else:
            raise ValueError(f"unsupported URL scheme {origin.scheme!r}")
        return conn

    def _acquire(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        return self._connect(origin), False

    def _release(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < 16:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = self._idle, {}
        for idle in pools.values():
            for conn in idle:
                conn.close()

    def _open(self, conn: http.client.HTTPConnection) -> None:
        """Connect within the connect timeout; later reads wait up to the read timeout."""
        conn.timeout = self.config.connect_timeout
        conn.connect()
        conn.sock.settimeout(self.config.read_timeout)

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: Body = None,
        body_length: int | None = None,
    ) -> Response:
        """Send one request. A stale pooled connection is retried once on a new one."""
        origin = Origin.of(url)
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        send_headers = {"User-Agent": self.config.user_agent}
        send_headers.update(headers or {})
        for attempt in range(2):
            conn, reused = self._acquire(origin)
            payload: bytes | Upload | None
            payload = body() if callable(body) else body
            if payload is not None and body_length is not None:
                send_headers["Content-Length"] = str(body_length)
            elif isinstance(payload, bytes):
                send_headers["Content-Length"] = str(len(payload))
            elif method in ("POST", "PUT", "PATCH") and payload is None:
                send_headers["Content-Length"] = "0"
            proxy = conn.proxy if isinstance(conn, _PlainHTTPConnection) else None
            request_target = target
            if proxy is not None:
                request_target = urlunsplit((parts.scheme, parts.netloc, target, "", ""))
                if proxy.authorization:
                    send_headers["Proxy-Authorization"] = proxy.authorization
            try:
                if conn.sock is None:
                    self._open(conn)
                conn.request(method, request_target, body=payload, headers=send_headers)
                raw = conn.getresponse()
            except CONNECTION_ERRORS:
                conn.close()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            finally:
                if payload is not None and not isinstance(payload, bytes):
                    payload.close()
            log.debug("%s %s -> %d", method, redact_url(url), raw.status)
            return Response(self, origin, conn, raw, url)
        raise AssertionError("unreachable")


_TLS_CACHE: dict[tuple[str, str], tuple[tuple, ssl.SSLContext]] = {}
_TLS_CACHE_LOCK = threading.Lock()


def _dir_signature(directory: Path | None) -> tuple:
    """Names, sizes and mtimes of a certs.d host directory (empty when absent)."""
    if directory is None or not directory.is_dir():
        return ()
    entries = []
    for path in sorted(directory.iterdir()):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def join_query(url: str, params: Iterable[tuple[str, str]]) -> str:
    """Append query parameters to a URL that may already have some (upload Locations do)."""
    from urllib.parse import urlencode

    extra = urlencode(list(params))
    if not extra:
        return url
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
