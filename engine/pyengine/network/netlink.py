"""Links, addresses and routes through netlink (pyroute2), behind the small `Netlink` protocol
the network service uses (unit tests give it a fake).

The daemon keeps one netlink socket in its own namespace, opened at first use. A container's
side is made in one go: the veth is created with its peer already in the container's namespace
(IFLA_NET_NS_FD), named eth0/eth1..., with its MAC and MTU; one short thread inside that
namespace (nsenter.py) then sets the address, brings the link and loopback up and adds the
default route."""

from __future__ import annotations

import errno
import logging
import os
import socket
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from pyengine.errors import EngineError, FailedPrecondition
from pyengine.network.nsenter import run_in_netns

if TYPE_CHECKING:
    from pyroute2 import IPBatch, IPRoute

NETLINK_ROUTE = 0
NLMSG_ERROR = 2
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
BRIDGE_MODE_HAIRPIN = 1  # IFLA_BRPORT_MODE
LOOPBACK_INDEX = 1  # the kernel gives loopback index 1 in every namespace
IFA_F_NODAD = 0x02  # an IPv6 address usable at once (no duplicate address detection: the
# daemon hands each address to one endpoint)
AF_INET6 = 10
LINK_LOCAL_PREFIX = {4: 16, 6: 64}  # 169.254.0.0/16, fe80::/64

T = TypeVar("T")
log = logging.getLogger("pyengine.network")


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
    address6: str = ""  # an IPv6 network's address ("" none)
    prefix6: int = 0
    gateway6: str = ""  # "": no IPv6 default route through this endpoint
    link_local: tuple[str, ...] = ()  # added as they are (/16 or /64)


class Netlink(Protocol):
    def ensure_bridge(self, name: str, address: str, prefix_len: int, mtu: int,
                      address6: str = "", prefix6: int = 0) -> None:
        """The bridge exists, has the address (the gateway; and the IPv6 one) and is up."""

    def link_exists(self, name: str) -> bool: ...

    def delete_link(self, name: str, wait: bool = True) -> None:
        """Gone (no error when it already was). wait=False: queued, errors logged (a dying
        container's veth: the kernel may hold it until its namespace is cleaned up)."""

    def add_veth(self, netns_fd: int, spec: VethSpec) -> None:
        """A configured endpoint; on failure nothing of it is left and EngineError raised."""

    def networks_in_use(self) -> list[str]:
        """The namespace's IPv4 routes and addresses as CIDRs ("10.0.0.0/8")."""

    def set_sysctl(self, key: str, value: str) -> None:
        """key as in sysctl(8): "net.ipv4.ip_forward"."""


class PyrouteNetlink:
    """`Netlink` over pyroute2 in the daemon's namespace.

    pyroute2 keeps its socket and event loop per thread: from any other thread than the one
    that made it, an IPRoute makes (and tears down) a socket and a loop for every call, and a
    socket made on a thread that is inside a container's namespace would keep that namespace
    alive. So every pyroute2 call runs on one thread of ours (made from, and staying in, the
    daemon's namespace), where the one IPRoute and the request encoder (IPBatch) live."""

    def __init__(self) -> None:
        self._ipr: IPRoute | None = None
        self._encoder: IPBatch | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="netlink")

    def _run(self, fn: Callable[[], T]) -> T:
        return self._thread.submit(fn).result()

    def _sock(self) -> IPRoute:
        if self._ipr is None:
            from pyroute2 import IPRoute

            self._ipr = IPRoute(groups=0)  # no multicast groups: nobody reads events here
        return self._ipr

    def close(self) -> None:
        def close() -> None:
            for holder in (self._ipr, self._encoder):
                if holder is not None:
                    holder.close()
            self._ipr = self._encoder = None

        self._run(close)
        self._thread.shutdown()

    def _index(self, name: str) -> int | None:
        found = self._sock().link_lookup(ifname=name)
        return int(found[0]) if found else None

    def ensure_bridge(self, name: str, address: str, prefix_len: int, mtu: int,
                      address6: str = "", prefix6: int = 0) -> None:
        def ensure() -> None:
            ipr = self._sock()
            index = self._index(name)
            if index is None:
                ipr.link("add", ifname=name, kind="bridge")
                index = self._index(name)
                assert index is not None
            else:  # never an address on (and later a deletion of) someone else's link
                [link] = ipr.link("get", index=index)
                info = link.get_attr("IFLA_LINKINFO")
                kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
                if kind != "bridge":
                    raise FailedPrecondition(f"bridge {name}: an interface {name} exists and is "
                                             f"not a bridge ({kind or 'no kind'})")
            have = {a.get("address") for a in ipr.get_addr(index=index, family=2)}
            if address not in have:
                ipr.addr("add", index=index, address=address, prefixlen=prefix_len,
                         broadcast=_broadcast(address, prefix_len))
            if address6 and address6 not in {a.get_attr("IFA_ADDRESS") for a in
                                             ipr.get_addr(index=index, family=AF_INET6)}:
                ipr.addr("add", index=index, address=address6, prefixlen=prefix6,
                         family=AF_INET6, flags=IFA_F_NODAD)
            ipr.link("set", index=index, state="up", mtu=mtu)

        with _errors(f"bridge {name}"):
            self._run(ensure)

    def link_exists(self, name: str) -> bool:
        with _errors(f"look up link {name}"):
            return self._run(lambda: self._index(name) is not None)

    def delete_link(self, name: str, wait: bool = True) -> None:
        def delete() -> None:
            with _errors(f"delete link {name}"):
                index = self._index(name)
                if index is None:
                    return
                try:
                    self._sock().link("del", index=index)
                except Exception as err:
                    if _code(err) not in (errno.ENODEV, errno.ENOENT):
                        raise

        if wait:
            self._run(delete)
        else:
            self._thread.submit(delete).add_done_callback(_log_failure)

    def add_veth(self, netns_fd: int, spec: VethSpec) -> None:
        def create() -> tuple[bytes, list[str]]:
            """The veth, and the container side's requests for its peer (whose index in the
            container's namespace is the host side's IFLA_LINK)."""
            ipr = self._sock()
            master = self._index(spec.bridge)
            if master is None:
                raise EngineError(f"bridge {spec.bridge} does not exist")
            ipr.link("add", ifname=spec.host, kind="veth", master=master, mtu=spec.mtu,
                     state="up", peer={"ifname": spec.ifname, "net_ns_fd": netns_fd,
                                       "address": spec.mac, "mtu": spec.mtu})
            try:
                [host] = ipr.link("get", ifname=spec.host)
                peer = host.get("link") or host.get_attr("IFLA_LINK")
                if not peer:
                    raise EngineError(f"{spec.host} has no peer")
                # hairpin: a container reaching its own published port (DNAT back to its
                # own address) has the packet bridged out of the port it came in on
                ipr.brport("set", index=host["index"], mode=BRIDGE_MODE_HAIRPIN)
                return self._encode(spec, int(peer))
            except BaseException:
                ipr.link("del", ifname=spec.host)
                raise

        with _errors(f"veth {spec.host} ({spec.ifname} in the container)"):
            data, names = self._run(create)
        try:
            run_in_netns(netns_fd, lambda: _send_inside(data, names, spec.ifname))
        except BaseException:
            self.delete_link(spec.host)  # takes its peer with it
            raise

    def _encode(self, spec: VethSpec, index: int) -> tuple[bytes, list[str]]:
        """The container side's requests for link `index`: address, link up, loopback up,
        default route; and their names, in order."""
        if self._encoder is None:
            from pyroute2 import IPBatch

            self._encoder = IPBatch()
        batch = self._encoder
        batch.reset()
        names = ["address", "link up", "loopback up"]
        batch.addr("add", index=index, address=spec.address, prefixlen=spec.prefix_len,
                   broadcast=_broadcast(spec.address, spec.prefix_len))
        batch.link("set", index=index, state="up")
        batch.link("set", index=LOOPBACK_INDEX, state="up")
        if spec.gateway:
            batch.route("add", dst="0.0.0.0/0", gateway=spec.gateway)
            names.append("default route")
        if spec.address6:
            batch.addr("add", index=index, address=spec.address6, prefixlen=spec.prefix6,
                       family=AF_INET6, flags=IFA_F_NODAD)
            names.append("IPv6 address")
        if spec.gateway6:
            batch.route("add", dst="::/0", gateway=spec.gateway6, family=AF_INET6)
            names.append("default IPv6 route")
        for address in spec.link_local:
            v6 = ":" in address
            prefix = LINK_LOCAL_PREFIX[6 if v6 else 4]
            if v6:
                batch.addr("add", index=index, address=address, prefixlen=prefix,
                           family=AF_INET6, flags=IFA_F_NODAD)
            else:
                batch.addr("add", index=index, address=address, prefixlen=prefix,
                           broadcast=_broadcast(address, prefix))
            names.append(f"link-local address {address}")
        return bytes(batch.batch), names

    def networks_in_use(self) -> list[str]:
        def collect() -> list[str]:
            out: list[str] = []
            ipr = self._sock()
            for route in ipr.get_routes(family=2):
                dst = route.get("dst") or route.get_attr("RTA_DST")
                if dst and route.get("dst_len", 0) > 0 and route.get("table", 254) == 254:
                    out.append(f"{dst}/{route['dst_len']}")
            for addr in ipr.get_addr(family=2):
                if not addr.get("address", "").startswith("127."):
                    out.append(f"{addr.get('address')}/{addr['prefixlen']}")
            return out

        with _errors("list routes"):
            return self._run(collect)

    def set_sysctl(self, key: str, value: str) -> None:
        path = Path("/proc/sys") / key.replace(".", "/")
        try:
            current = path.read_text().strip()
            if current != value:
                path.write_text(value)
        except OSError as err:
            raise EngineError(f"sysctl {key}={value}: {err.strerror}") from err


def _log_failure(done: Future[None]) -> None:
    err = done.exception()
    if err is not None:
        log.warning("netlink: a queued change failed", extra={"fields": {"error": str(err)}})


def _send_inside(data: bytes, names: list[str], ifname: str) -> None:
    """In the container's namespace (the calling thread's): the encoded requests sent in one
    write on a plain netlink socket made here, every one acknowledged; a default route already
    there (an earlier network's) is fine. pyroute2 encoded them (IPBatch): an IPRoute here
    would cost a socket, an event loop and a round trip per request."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                         NETLINK_ROUTE)
    try:
        sock.settimeout(10)
        sock.bind((0, 0))
        sock.sendto(data, (0, 0))
        pending = dict(zip(_sequence_numbers(data), names, strict=True))
        while pending:
            for seq, code in _acks(sock.recv(65536)):
                name = pending.pop(seq, None)
                if name is None or code == 0:
                    continue
                if code == errno.EEXIST and name.startswith("default"):
                    continue
                raise EngineError(f"configure {ifname} in the container: {name}: "
                                  f"{os.strerror(code)}")
    except OSError as err:
        raise EngineError(f"configure {ifname} in the container: "
                          f"{err.strerror or err}") from err
    finally:
        sock.close()


def _sequence_numbers(data: bytes) -> list[int]:
    out = []
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, _, _, seq, _ = NLMSG_HEADER.unpack_from(data, offset)
        out.append(seq)
        offset += max((length + 3) & ~3, NLMSG_HEADER.size)
    return out


def _acks(data: bytes) -> list[tuple[int, int]]:
    """(sequence number, errno) of every NLMSG_ERROR message of a reply (0: success)."""
    out = []
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, kind, _, seq, _ = NLMSG_HEADER.unpack_from(data, offset)
        if kind == NLMSG_ERROR and offset + NLMSG_HEADER.size + 4 <= len(data):
            (error,) = struct.unpack_from("=i", data, offset + NLMSG_HEADER.size)
            out.append((seq, -error))
        offset += max((length + 3) & ~3, NLMSG_HEADER.size)
    return out


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
