"""Published host ports held by the daemon: a listening TCP socket or a bound UDP socket per
host ip:port, as docker-proxy and podman hold theirs. While we hold it nobody else can bind the
port (and we cannot hand it out twice); port 0 takes a free ephemeral port from the kernel.

IPv4 packets never reach these sockets: the DNAT rules (firewall.py) rewrite them in
PREROUTING/OUTPUT, before local delivery. An IPv6 host address ("::", dockerd's twin of an
unspecified host IP) is held by an IPV6_V6ONLY socket that the userland proxy serves
(userland_proxy.py: NAT does not cross address families, and containers have IPv4 addresses
only). The sockets live in the namespace of the thread that reserves (the daemon's) and are
close-on-exec, so no shim or runtime inherits them.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterable
from typing import NamedTuple

from pyengine.errors import FailedPrecondition, InvalidArgument

ANY_IP = "0.0.0.0"
ANY_IP6 = "::"


class PortKey(NamedTuple):
    host_ip: str
    port: int
    proto: str


class Reservations:
    """The host ports this daemon holds, keyed by (host_ip, port, proto); thread-safe."""

    def __init__(self) -> None:
        self._held: dict[PortKey, socket.socket] = {}
        self._lock = threading.Lock()

    def reserve(self, host_ip: str, port: int, proto: str, end: int = 0) -> int:
        """Hold host_ip:port/proto and return the port: an ephemeral one when port is 0, the
        first free one of port..end when end is given. docker's error when taken."""
        ip = host_ip or ANY_IP
        if proto not in ("tcp", "udp"):
            raise InvalidArgument(f"reserve {ip}:{port}/{proto}: unsupported protocol")
        last = end if end > port else port
        with self._lock:
            for candidate in range(port, last + 1):
                held = self._bind(ip, candidate, proto)
                if held is not None:
                    number = held.getsockname()[1]
                    self._held[PortKey(ip, number, proto)] = held
                    return int(number)
        shown = f"{port}-{last}" if last != port else str(port)
        raise FailedPrecondition(f"Bind for {ip}:{shown} failed: port is already allocated")

    def release(self, host_ip: str, port: int, proto: str) -> None:
        """Let the port go (nothing when not held)."""
        with self._lock:
            held = self._held.pop(PortKey(host_ip or ANY_IP, port, proto), None)
        if held is not None:
            held.close()

    def release_all(self, keys: Iterable[tuple[str, int, str]] | None = None) -> None:
        """Let the given ports go; every port when keys is None (daemon shutdown)."""
        with self._lock:
            wanted = list(self._held) if keys is None else [PortKey(k[0] or ANY_IP, k[1], k[2])
                                                            for k in keys]
            socks = [s for s in (self._held.pop(k, None) for k in wanted) if s is not None]
        for held in socks:
            held.close()

    def held(self) -> list[PortKey]:
        with self._lock:
            return list(self._held)

    def duplicate(self, host_ip: str, port: int, proto: str) -> socket.socket | None:
        """A duplicate of the socket holding host_ip:port/proto (the caller closes it), for
        the userland proxy to serve; None when not held."""
        with self._lock:
            held = self._held.get(PortKey(host_ip or ANY_IP, port, proto))
            return held.dup() if held is not None else None

    def _bind(self, ip: str, port: int, proto: str) -> socket.socket | None:
        """A socket holding ip:port, or None when the port is in use."""
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        if port == 0 or PortKey(ip, port, proto) not in self._held:
            v6 = ":" in ip
            held = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind)
            try:
                if v6:  # "::" must not take the IPv4 port too (that is 0.0.0.0's own socket)
                    held.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if proto == "tcp":
                    # TIME_WAIT connections of a previous holder must not block a restart
                    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                held.bind((ip, port))
                if proto == "tcp":
                    held.listen(1)
                return held
            except OSError as e:
                held.close()
                if e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    raise InvalidArgument(
                        f"Bind for {ip}:{port} failed: {ip} is not an address of this "
                        "host") from None
                if e.errno != errno.EADDRINUSE:
                    raise FailedPrecondition(
                        f"Bind for {ip}:{port} failed: {e.strerror}") from None
        return None


def ipv6_listenable() -> bool:
    """Whether this namespace can listen on IPv6 (dockerd's probe: a TCP listener on [::1]);
    not when the kernel was booted with ipv6.disable=1 or IPv6 is disabled here."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
            probe.listen(1)
    except OSError:
        return False
    return True
