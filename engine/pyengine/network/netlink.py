"""Links, addresses and routes through netlink (pyroute2), behind the small `Netlink` protocol
the network service uses (unit tests give it a fake).

The daemon keeps one netlink socket in its own namespace, opened at first use. A container's
side is made in one go: the veth is created with its peer already in the container's namespace
(IFLA_NET_NS_FD), named eth0/eth1..., with its MAC and MTU; one short thread inside that
namespace (nsenter.py) then sets the address, brings the link and loopback up and adds the
default route."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pyengine.errors import EngineError
from pyengine.network.nsenter import run_in_netns

if TYPE_CHECKING:
    from pyroute2 import IPRoute

IFF_UP = 1


@dataclass(frozen=True)
class VethSpec:
    """One container endpoint: `host` joins `bridge` here, `ifname` is made in the netns."""

    host: str  # the host side's name, "veth" + 7 hex digits
    bridge: str
    ifname: str  # "eth0", "eth1", ... inside the container
    mac: str
    address: str
    prefix_len: int
    gateway: str  # "": no default route through this endpoint
    mtu: int = 1500


class Netlink(Protocol):
    def ensure_bridge(self, name: str, address: str, prefix_len: int, mtu: int) -> None:
        """The bridge exists, has the address (the gateway) and is up."""

    def link_exists(self, name: str) -> bool: ...

    def delete_link(self, name: str) -> None:
        """Gone (no error when it already was)."""

    def add_veth(self, netns_fd: int, spec: VethSpec) -> None:
        """A configured endpoint; on failure nothing of it is left and EngineError raised."""

    def networks_in_use(self) -> list[str]:
        """The namespace's IPv4 routes and addresses as CIDRs ("10.0.0.0/8")."""

    def set_sysctl(self, key: str, value: str) -> None:
        """key as in sysctl(8): "net.ipv4.ip_forward"."""


class PyrouteNetlink:
    """`Netlink` over pyroute2 in the daemon's namespace."""

    def __init__(self) -> None:
        self._ipr: IPRoute | None = None
        self._lock = threading.Lock()

    def _sock(self) -> IPRoute:
        if self._ipr is None:
            from pyroute2 import IPRoute

            self._ipr = IPRoute(groups=0)  # no multicast groups: nobody reads events here
        return self._ipr

    def close(self) -> None:
        with self._lock:
            if self._ipr is not None:
                self._ipr.close()
                self._ipr = None

    def _index(self, name: str) -> int | None:
        found = self._sock().link_lookup(ifname=name)
        return int(found[0]) if found else None

    def ensure_bridge(self, name: str, address: str, prefix_len: int, mtu: int) -> None:
        with self._lock, _errors(f"bridge {name}"):
            ipr = self._sock()
            index = self._index(name)
            if index is None:
                try:
                    ipr.link("add", ifname=name, kind="bridge")
                except Exception as err:
                    if _code(err) != errno.EEXIST:  # made meanwhile by another daemon thread
                        raise
                index = self._index(name)
                assert index is not None
            have = {a.get("address") for a in ipr.get_addr(index=index, family=2)}
            if address not in have:
                ipr.addr("add", index=index, address=address, prefixlen=prefix_len,
                         broadcast=_broadcast(address, prefix_len))
            ipr.link("set", index=index, state="up", mtu=mtu)

    def link_exists(self, name: str) -> bool:
        with self._lock, _errors(f"look up link {name}"):
            return self._index(name) is not None

    def delete_link(self, name: str) -> None:
        with self._lock, _errors(f"delete link {name}"):
            index = self._index(name)
            if index is None:
                return
            try:
                self._sock().link("del", index=index)
            except Exception as err:
                if _code(err) not in (errno.ENODEV, errno.ENOENT):
                    raise

    def add_veth(self, netns_fd: int, spec: VethSpec) -> None:
        with self._lock, _errors(f"veth {spec.host} ({spec.ifname} in the container)"):
            ipr = self._sock()
            master = self._index(spec.bridge)
            if master is None:
                raise EngineError(f"bridge {spec.bridge} does not exist")
            ipr.link("add", ifname=spec.host, kind="veth", master=master, mtu=spec.mtu,
                     state="up", peer={"ifname": spec.ifname, "net_ns_fd": netns_fd,
                                       "address": spec.mac, "mtu": spec.mtu})
        try:
            run_in_netns(netns_fd, lambda: _configure_inside(spec))
        except BaseException:
            self.delete_link(spec.host)  # takes its peer with it
            raise

    def networks_in_use(self) -> list[str]:
        out: list[str] = []
        with self._lock, _errors("list routes"):
            ipr = self._sock()
            for route in ipr.get_routes(family=2):
                dst = route.get("dst") or route.get_attr("RTA_DST")
                if dst and route.get("dst_len", 0) > 0 and route.get("table", 254) == 254:
                    out.append(f"{dst}/{route['dst_len']}")
            for addr in ipr.get_addr(family=2):
                if not addr.get("address", "").startswith("127."):
                    out.append(f"{addr.get('address')}/{addr['prefixlen']}")
        return out

    def set_sysctl(self, key: str, value: str) -> None:
        path = Path("/proc/sys") / key.replace(".", "/")
        try:
            current = path.read_text().strip()
            if current != value:
                path.write_text(value)
        except OSError as err:
            raise EngineError(f"sysctl {key}={value}: {err.strerror}") from err


def _configure_inside(spec: VethSpec) -> None:
    """In the container's namespace: address, link up, loopback up, default route."""
    from pyroute2 import IPRoute

    with IPRoute(groups=0) as ipr, _errors(f"configure {spec.ifname} in the container"):
        found = ipr.link_lookup(ifname=spec.ifname)
        if not found:
            raise EngineError(f"{spec.ifname} missing in the container's namespace")
        index = found[0]
        ipr.addr("add", index=index, address=spec.address, prefixlen=spec.prefix_len,
                 broadcast=_broadcast(spec.address, spec.prefix_len))
        ipr.link("set", index=index, state="up")
        lo = ipr.link_lookup(ifname="lo")
        if lo:
            ipr.link("set", index=lo[0], state="up")
        if spec.gateway:
            try:
                ipr.route("add", dst="0.0.0.0/0", gateway=spec.gateway)
            except Exception as err:
                if _code(err) != errno.EEXIST:  # a default route from an earlier network
                    raise


def _broadcast(address: str, prefix_len: int) -> str:
    import ipaddress

    return str(ipaddress.IPv4Interface(f"{address}/{prefix_len}").network.broadcast_address)


def _code(err: BaseException) -> int:
    code = getattr(err, "code", None)
    if isinstance(code, int):
        return code
    return err.errno if isinstance(err, OSError) and err.errno else 0


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """Netlink and OS errors as one-line EngineErrors naming the operation."""
    try:
        yield
    except EngineError:
        raise
    except Exception as err:
        code = _code(err)
        cause = f"{os.strerror(code)}" if code else str(err)
        raise EngineError(f"{what}: {cause}") from err
