"""NetworkService: the network domain (create/list/inspect/remove/prune networks; register,
attach, detach, connect and disconnect containers' endpoints).

State lives in SQLite (repository.py); the kernel's (bridges, veths, firewall chains) is made
from it. Kernel state is made lazily: a bridge when its network is created or a container first
attaches to it, the firewall's chains when a bridge or a published port appears, so a daemon
nobody runs containers on (a unit test's engine) never touches its namespace. Management calls
block (the gRPC edge runs them in the worker pool); container hooks are coroutines on the loop
that run their blocking part in one `asyncio.to_thread` call."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import hashlib
import ipaddress
import logging
import os
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pyengine import crashpoints
from pyengine.errors import (
    AlreadyExists,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from pyengine.network import ipam, subnets
from pyengine.network.model import (
    DEFAULT_BRIDGE,
    ContainerNet,
    EndpointRequest,
    EndpointView,
    IpamPool,
    Network,
    NetworkSettings,
    PoolRequest,
    PortMapping,
)
from pyengine.network.repository import EndpointRecord, NetworkRepository
from pyengine.store.records import now_rfc3339

if TYPE_CHECKING:
    import socket

    from pyengine.config import DaemonConfig
    from pyengine.events import EventBus
    from pyengine.network.firewall import BridgeRules, DnatRule
    from pyengine.network.netlink import Netlink
    from pyengine.network.portspec import PortBinding
    from pyengine.network.reservations import Reservations
    from pyengine.network.userland_proxy import Target, UserlandProxy
    from pyengine.store import Database

log = logging.getLogger("pyengine.network")

DEFAULT_BRIDGE_IFNAME = "pyengine0"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
MTU_OPTION = "com.docker.network.driver.mtu"
DEFAULT_MTU = 1500
_BRIDGE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
QTYPE_A, QTYPE_PTR = 1, 12
PREDEFINED = ("bridge", "host", "none", "default")  # docker's runconfig.IsPreDefinedNetwork
DANGLING = {"true": True, "1": True, "false": False, "0": False}
HOST_HOSTS = Path("/etc/hosts")
NONE_MODE = "container cannot be connected to multiple networks with one of the networks in " \
    "private (none) mode"
HOST_MODE = "container cannot be disconnected from host network or connected to host network"
ANY_IP, ANY_IP6 = "0.0.0.0", "::"
TWIN_TRIES = 32  # ephemeral ports tried for one free on both 0.0.0.0 and "::"


class FirewallLike(Protocol):
    """network/firewall.py's Firewall as this domain uses it."""

    def apply(self, bridges: Sequence[Any], dnats: Sequence[Any]) -> None: ...


class DnsLike(Protocol):
    """network/dns.py's EmbeddedDns as this domain uses it."""

    def listening(self, cid: str) -> bool: ...

    async def listen(self, cid: str, netns_fd: int) -> None: ...

    async def close(self, cid: str) -> None: ...

    async def close_all(self) -> None: ...


DnsFactory = Callable[[Callable[[str, str, int], "list[str] | None"],
                       Callable[[str], Sequence[tuple[str, int]]]], DnsLike]


@dataclass(frozen=True)
class _Active:
    """An attached endpoint as the DNS answers from it (kept in memory: the resolver runs on
    the loop, where SQLite must not be read)."""

    cid: str
    name: str
    aliases: tuple[str, ...]
    address: str
    links: tuple[str, ...] = ()  # "name:alias": names only this container resolves


class NetworkService:
    """Domain: open/recover/close. Management calls block; attach/detach/restore/connect/
    disconnect are coroutines on the loop."""

    name = "networks"

    def __init__(self, config: DaemonConfig, db: Database, events: EventBus, *,
                 netlink: Netlink | None = None, firewall: FirewallLike | None = None,
                 dns: DnsFactory | None = None, reservations: Reservations | None = None,
                 host_resolv: Path | None = None, ipv6: bool | None = None) -> None:
        self.config = config
        self.repo = NetworkRepository(db)
        self.events = events
        self._netlink = netlink
        self._firewall = firewall
        self._dns_factory = dns
        self._dns: DnsLike | None = None
        self._reservations = reservations
        self._proxy: UserlandProxy | None = None
        self._ipv6 = ipv6  # whether this namespace listens on IPv6 (None: probed at first use)
        self.host_resolv = host_resolv  # None: etcfiles' choice (resolved's file or /etc's)
        self._lock = threading.RLock()  # management changes, one at a time
        self._ready: set[str] = set()  # bridges made (or checked) by this daemon
        self._forwarding = False
        self._active: dict[str, dict[str, _Active]] = {}  # network id -> cid -> endpoint
        self._user_nets: set[str] = set()  # ids of user-defined networks
        self._net_names: dict[str, str] = {}  # network id -> name, for the DNS
        self._containers: dict[str, ContainerNet] = {}  # attached, by id
        self._pids: dict[str, int] = {}
        # a container's attach, detach, restore, connect and disconnect, one at a time (two
        # connects would both name their interface eth1 and both open its DNS listener; an
        # exit's detach would run between a connect's claim and its veth)
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, cid: str) -> AsyncIterator[None]:
        lock, users = self._serial.get(cid) or (asyncio.Lock(), 0)
        self._serial[cid] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._serial[cid]
            if users == 1:
                del self._serial[cid]  # (a lock is bound to the loop it first waited on)
            else:
                self._serial[cid] = (lock, users - 1)

    # -- parts, made at first use -----------------------------------------------------------

    @property
    def netlink(self) -> Netlink:
        if self._netlink is None:
            from pyengine.network.netlink import PyrouteNetlink

            self._netlink = PyrouteNetlink()
        return self._netlink

    @property
    def firewall(self) -> FirewallLike:
        if self._firewall is None:
            from pyengine.network.firewall import Firewall

            self._firewall = Firewall()
        return self._firewall

    @property
    def reservations(self) -> Reservations:
        if self._reservations is None:
            from pyengine.network.reservations import Reservations

            self._reservations = Reservations()
        return self._reservations

    def _userland_proxy(self) -> UserlandProxy:
        if self._proxy is None:
            from pyengine.network.userland_proxy import UserlandProxy

            self._proxy = UserlandProxy()
        return self._proxy

    def _ipv6_listenable(self) -> bool:
        if self._ipv6 is None:
            from pyengine.network.reservations import ipv6_listenable

            self._ipv6 = ipv6_listenable()
        return self._ipv6

    def _dns_server(self) -> DnsLike:
        if self._dns is None:
            if self._dns_factory is None:
                from pyengine.network.dns import EmbeddedDns

                self._dns = EmbeddedDns(self.lookup, self.upstreams)
            else:
                self._dns = self._dns_factory(self.lookup, self.upstreams)
        return self._dns

    # -- Domain -----------------------------------------------------------------------------

    def open(self) -> None:
        """The default `bridge` and the builtin `host` and `none` networks are recorded."""
        existing = {n.name: n for n in self.repo.networks()}
        for name, driver in (("none", "null"), ("host", "host")):
            if name not in existing:
                self.repo.add_network(Network(_new_id(), name, driver, now_rfc3339()))
        bridge = existing.get(DEFAULT_BRIDGE)
        pool = self._default_pool(bridge, list(existing.values()))
        if bridge is None:
            self.repo.add_network(Network(
                _new_id(), DEFAULT_BRIDGE, "bridge", now_rfc3339(), DEFAULT_BRIDGE_IFNAME,
                [pool], options=_default_bridge_options()))
        elif bridge.pools != [pool]:
            if any(e.active for e in self.repo.endpoints_on(bridge.id)):
                log.warning("--bip changed but containers use the default bridge: kept",
                            extra={"fields": {"subnet": bridge.pools[0].subnet}})
            else:
                bridge.pools = [pool]
                self.repo.update_network(bridge)
                if self.netlink.link_exists(bridge.bridge):  # made again with the new address
                    self.netlink.delete_link(bridge.bridge)
        self._load_active()

    def _default_pool(self, bridge: Network | None, every: list[Network]) -> IpamPool:
        if self.config.bip:
            iface = ipaddress.IPv4Interface(self.config.bip)
            return ipam.make_pool(str(iface.network), str(iface.ip))
        if bridge is not None:
            return bridge.pools[0]
        taken = [p.subnet for n in every for p in n.pools]
        return ipam.make_pool(subnets.choose(taken, self.netlink.networks_in_use()))

    def _load_active(self) -> None:
        nets = {n.id: n for n in self.repo.networks()}
        self._user_nets = {nid for nid, n in nets.items() if n.user_defined}
        self._net_names = {nid: n.name for nid, n in nets.items()}
        self._active = {}
        for e in self.repo.all_endpoints():
            if e.active:
                self._remember(e)

    def recover(self) -> None:
        """Bridges of user networks made again if missing (a reboot), the default one if it
        is still there; the firewall's chains rebuilt from the records."""
        for n in self.repo.networks():
            if n.driver != "bridge":
                continue
            if n.user_defined or self.netlink.link_exists(n.bridge):
                self._ensure_bridge(n)
        if self._ready:
            self._apply_firewall()

    def close(self) -> None:
        """Ports held go; bridges and rules stay (containers keep running)."""
        if self._reservations is not None:
            self._reservations.release_all()
        close = getattr(self._netlink, "close", None)
        if close is not None:
            close()

    async def stop_serving(self) -> None:
        """Daemon shutdown: the DNS listeners and the userland proxy close (containers keep
        running)."""
        if self._dns is not None:
            await self._dns.close_all()
        if self._proxy is not None:
            await self._proxy.close_all()

    async def reconcile(self, running: set[str]) -> None:
        """Called by the containers domain at serve: addresses, port mappings and DNS of
        containers not in `running` (ids) are released."""
        await asyncio.to_thread(self._reconcile, running)

    def _reconcile(self, running: set[str]) -> None:
        gone = self.repo.containers_holding() - running
        if not gone:
            return
        with self._lock:
            had_ports = False
            for cid in gone:
                had_ports |= self._release(cid)
            if had_ports and self._ready:
                self._apply_firewall()

    # -- management -------------------------------------------------------------------------

    def create(self, name: str, driver: str = "bridge", subnet: str = "", gateway: str = "",
               ip_range: str = "", internal: bool = False,
               labels: Mapping[str, str] | None = None,
               options: Mapping[str, str] | None = None, *, ipv6: bool = False,
               pool6: PoolRequest | None = None, aux: Mapping[str, str] | None = None,
               ipam_options: Mapping[str, str] | None = None) -> Network:
        """A user-defined network; AlreadyExists / InvalidArgument with docker's texts.
        `ipv6`: containers get an IPv6 address of `pool6` too (docker's EnableIPv6, which
        needs an IPv6 pool: there is no default one); `aux`: the IPv4 pool's auxiliary
        addresses (never handed out); `ipam_options`: kept and shown."""
        _check_name(name)
        if name in PREDEFINED:  # docker 20.10's text, its trailing space too
            raise PermissionDenied(f"operation is not permitted on predefined {name} network ")
        if driver in ("host", "null"):
            raise FailedPrecondition(f"only one instance of \"{driver}\" network is allowed")
        if driver != "bridge":
            raise NotFound(f"plugin \"{driver}\" not found")
        if (gateway or ip_range) and not subnet:
            raise InvalidArgument("every ip-range or gateway must have a corresponding subnet")
        opts = dict(options or {})
        mtu = _mtu(opts)
        with self._lock:
            every = self.repo.networks()
            if any(n.name == name for n in every):
                raise AlreadyExists(f"network with name {name} already exists")
            taken = [p.subnet for n in every for p in n.pools]
            if subnet:
                pool = dataclasses.replace(ipam.make_pool(subnet, gateway, ip_range, aux, 4),
                                           gateway_given=bool(gateway))
                subnets.check_free(pool.subnet, taken)
            else:
                if aux:
                    raise InvalidArgument("auxiliary addresses need a subnet")
                pool = dataclasses.replace(ipam.make_pool(subnets.choose(
                    taken, self.netlink.networks_in_use())), auto=True)
            pools = [pool, *self._pool6(pool6, ipv6, taken)]
            nid = _new_id()
            bridge = opts.get(BRIDGE_NAME_OPTION) or f"br-{nid[:12]}"
            if len(bridge) > 15:
                raise InvalidArgument(f"bridge name {bridge}: longer than 15 characters")
            if not _BRIDGE_NAME.fullmatch(bridge):  # it is an argument of iptables' -i/-o
                raise InvalidArgument(f"invalid bridge name {bridge!r}: only "
                                      "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            if any(n.bridge == bridge for n in every):
                raise AlreadyExists(f"bridge name {bridge} is used by another network")
            n = Network(nid, name, driver, now_rfc3339(), bridge, pools, internal,
                        dict(labels or {}), opts, mtu, ipv6,
                        None if ipam_options is None else dict(ipam_options))
            existed = self.netlink.link_exists(bridge)  # (-o bridge.name): not ours to delete
            self.repo.add_network(n)
            try:
                self._ensure_bridge(n)
                self._apply_firewall()
            except BaseException:
                self.repo.remove_network(n, lambda _: None)
                self._ready.discard(n.bridge)
                if not existed:
                    self._forget_bridge(n.bridge)
                raise
            self._user_nets.add(nid)
            self._net_names[nid] = name
        self.events.publish("network", "create", nid, name=name, type=driver)
        return n

    @staticmethod
    def _pool6(request: PoolRequest | None, ipv6: bool, taken: Sequence[str]
               ) -> builtins.list[IpamPool]:
        if request is None or not request.subnet:
            if ipv6:  # dockerd 20.10 has no default IPv6 pool either (its 404)
                raise NotFound("could not find an available, non-overlapping IPv6 address "
                               "pool among the defaults to assign to the network")
            return []
        pool = dataclasses.replace(
            ipam.make_pool(request.subnet, request.gateway, request.ip_range, request.aux, 6),
            gateway_given=bool(request.gateway))
        subnets.check_free(pool.subnet, taken)
        return [pool]

    def get(self, ref: str) -> Network:
        """By name, id or unique id prefix; NotFound("network X not found")."""
        return self.repo.find(ref)

    def list(self, filters: Sequence[str] = ()) -> builtins.list[Network]:
        """filters: "name=x" (substring), "id=x" (prefix), "driver=x", "label=k[=v]",
        "type=custom|builtin", "dangling=true|false" (docker's: a user network no running
        container is on); the same key twice matches either value."""
        wanted: dict[str, builtins.list[str]] = {}
        for f in filters:
            key, sep, value = f.partition("=")
            if not sep or key not in ("name", "id", "driver", "label", "type", "scope",
                                      "dangling"):
                raise InvalidArgument(f"Invalid filter '{key}'")
            if key == "type" and value not in ("custom", "builtin"):
                raise InvalidArgument(f"invalid filter: 'type'='{value}'")
            if key == "dangling" and value not in DANGLING:
                raise InvalidArgument("invalid value for filter 'dangling', must be \"true\" "
                                      "(or \"1\"), or \"false\" (or \"0\")")
            if key == "dangling" and key in wanted:
                raise InvalidArgument('got more than one value for filter key "dangling"')
            wanted.setdefault(key, []).append(value)
        found = [n for n in self.repo.networks() if _matches(n, wanted)]
        if "dangling" in wanted:
            dangling = DANGLING[wanted["dangling"][0]]
            found = [n for n in found if dangling == (not n.builtin and not any(
                e.active for e in self.repo.endpoints_on(n.id)))]
        return found

    def inspect(self, ref: str) -> dict[str, Any]:
        """docker's JSON shape of a network, Containers filled."""
        return self.document(self.repo.find(ref))

    def document(self, n: Network, detailed: bool = True) -> dict[str, Any]:
        """docker's JSON shape of `n`; `detailed` False: Containers empty (docker's network
        list since API 1.28)."""
        containers: dict[str, Any] = {}
        pool6 = n.pool6
        for e in self.repo.endpoints_on(n.id) if detailed else ():
            if not e.active:
                continue
            prefix = ipam.prefix_len(n.pools[0].subnet) if n.pools else 0
            containers[e.container_id] = {
                "Name": e.container_name, "EndpointID": e.endpoint_id,
                "MacAddress": e.mac or ipam.mac_of(e.address),
                "IPv4Address": f"{e.address}/{prefix}",
                "IPv6Address": f"{e.address6}/{ipam.prefix_len(pool6.subnet)}"
                if e.address6 and pool6 is not None else ""}
        return {
            "Name": n.name, "Id": n.id, "Created": n.created, "Scope": "local",
            "Driver": n.driver, "EnableIPv6": n.ipv6,
            "IPAM": {"Driver": "default", "Options": n.ipam_options,
                     "Config": [_ipam_config(p) for p in n.pools]},
            "Internal": n.internal, "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": containers, "Options": dict(n.options), "Labels": dict(n.labels),
        }

    def remove(self, ref: str) -> None:
        """FailedPrecondition when endpoints are active or the network is builtin."""
        n = self.repo.find(ref)
        if n.builtin:
            raise PermissionDenied(f"{n.name} is a pre-defined network and cannot be removed")
        with self._lock:
            self._remove(n)

    def _remove(self, n: Network) -> None:
        def check(endpoints: builtins.list[EndpointRecord]) -> None:
            if any(e.active for e in endpoints):  # docker's 403 (libnetwork's Forbidden)
                raise PermissionDenied(f"error while removing network: network {n.name} id "
                                         f"{n.id} has active endpoints")

        self.repo.remove_network(n, check)
        self._user_nets.discard(n.id)
        self._net_names.pop(n.id, None)
        self._active.pop(n.id, None)
        self._forget_bridge(n.bridge)
        self._apply_firewall()
        self.events.publish("network", "destroy", n.id, name=n.name, type=n.driver)

    def _forget_bridge(self, bridge: str) -> None:
        self._ready.discard(bridge)
        if bridge:
            self.netlink.delete_link(bridge)

    def prune(self, filters: Sequence[str] = ()) -> builtins.list[str]:
        """Remove user networks no container is connected to (running or not); names.
        filters: "label=k[=v]", "label!=k[=v]", "until=TIME" (created before; docker's
        time values)."""
        from pyengine.timevalues import to_ns

        label_filters = []
        until = 0
        for f in filters:
            key, sep, value = f.partition("=")
            if key not in ("label", "label!", "until") or not sep:
                raise InvalidArgument(f"Invalid filter '{key}'")
            if key == "until":
                if until:
                    raise InvalidArgument("more than one until filter specified")
                until = to_ns(value) or 0
                if not until:
                    raise InvalidArgument(f'failed to parse value as time or duration: '
                                          f'"{value}"')
                continue
            label_filters.append((key == "label", value))
        removed: builtins.list[str] = []
        with self._lock:
            for n in self.repo.networks():
                if n.builtin or self.repo.endpoints_on(n.id):
                    continue
                if not all(_label_matches(n, v) == want for want, v in label_filters):
                    continue
                if until and (to_ns(n.created) or 0) >= until:
                    continue
                try:
                    self._remove(n)
                except EngineError as err:
                    log.warning("prune: a network could not be removed",
                                extra={"fields": {"network": n.name, "error": str(err)}})
                    continue
                removed.append(n.name)
        return removed

    # -- containers -------------------------------------------------------------------------

    def register(self, c: ContainerNet, first: EndpointRequest | None) -> None:
        """At create: validate (unknown network, --ip outside subnet or on the default bridge,
        aliases on the default bridge, ...) and record the container's endpoint configs;
        `first` None for none/host/container: modes."""
        self._check_ports(c)
        if first is None:
            return
        n = self.repo.find(first.network)
        self._check_request(c, n, first)
        self.repo.add_endpoint(self._record(c, n, first))

    def _check_ports(self, c: ContainerNet) -> None:
        from pyengine.network import portspec

        portspec.parse_publish(c.publish)
        if c.publish_all:
            portspec.exposed_bindings(c.exposed)

    def _check_request(self, c: ContainerNet, n: Network, req: EndpointRequest) -> None:
        """At create and connect (a daemon-picked subnet's --ip is refused only when
        connecting, docker's: at start or at network connect)."""
        if n.driver == "null":
            raise FailedPrecondition(NONE_MODE)
        if n.driver == "host":
            raise FailedPrecondition(HOST_MODE)
        if (req.ip or req.ip6) and not n.user_defined:
            raise InvalidArgument("user specified IP address is supported on user defined "
                                  "networks only")
        if req.ip:
            ipam.allocate(n.pools[0], (), req.ip)  # in the subnet, not the gateway
        if req.ip6:
            if ":" not in req.ip6 or not ipam.is_address(req.ip6):  # dockerd's 400
                raise InvalidArgument(f"invalid IPv6 address: {req.ip6}")
            if n.pool6 is None:
                raise InvalidArgument(f"invalid IPv6 address {req.ip6}: network {n.name} has "
                                      "no IPv6 (EnableIPv6 and an IPv6 subnet)")
            ipam.allocate(n.pool6, (), req.ip6)
        for address in req.link_local:
            _check_link_local(address)
        if req.aliases and not n.user_defined:
            raise InvalidArgument("network-scoped alias is supported only for containers in "
                                  "user defined networks")
        if req.mac:
            _check_mac(req.mac)

    def _record(self, c: ContainerNet, n: Network, req: EndpointRequest) -> EndpointRecord:
        return EndpointRecord(c.id, n.id, c.name, 0, _new_id(), req.ip, tuple(req.aliases),
                              tuple(req.links), req.mac, ip6=req.ip6,
                              link_local=tuple(req.link_local),
                              driver_opts=dict(req.driver_opts))

    def unregister(self, cid: str) -> None:
        """At rm: forget the container's configs (and free all it holds)."""
        with self._lock:
            had_ports = self._release(cid)
            self.repo.forget_container(cid)
            if had_ports and self._ready:
                self._apply_firewall()

    def _release(self, cid: str) -> bool:
        """Addresses and ports of `cid` freed (links are the caller's); whether it had ports."""
        ports = self.repo.ports_of(cid)
        if ports:
            self.reservations.release_all([(p.host_ip, p.host_port, p.proto) for p in ports])
            self.repo.release_ports(cid)
        self.repo.deactivate(cid)
        for members in list(self._active.values()):  # a start may add a network
            members.pop(cid, None)
        self._containers.pop(cid, None)
        self._pids.pop(cid, None)
        return bool(ports)

    async def attach(self, c: ContainerNet, pid: int) -> None:
        """After the shim's Create, before Start: every recorded endpoint (veth, address,
        route, MTU), ports (reserve + DNAT), DNS listener, etc files. Undoes its own partial
        work on failure and raises. For none/host: etc files only."""
        from pyengine.network.nsenter import open_netns

        async with self._one_at_a_time(c.id):
            fd = await asyncio.to_thread(open_netns, pid) if pid else -1
            try:
                embedded = await asyncio.to_thread(self._attach, c, pid, fd)
                if embedded:
                    await self._dns_server().listen(c.id, fd)
                if c.publish or c.publish_all:
                    await self._serve_proxied(c.id)
            except BaseException:
                await self._detach_now(c.id)
                raise
            finally:
                if fd >= 0:
                    os.close(fd)

    def _attach(self, c: ContainerNet, pid: int, fd: int) -> bool:
        """The blocking part of attach; whether the container needs the embedded DNS."""
        if c.mode not in ("bridge", "none", "host") and not c.mode.startswith("container:"):
            self.repo.find(c.mode)  # removed while the container was stopped: docker's
            # NotFound "network X not found" (its endpoint records went with the network)
        records = self.repo.endpoints_of(c.id)
        self._containers[c.id] = c
        self._pids[c.id] = pid
        nets = {n.id: n for n in self.repo.networks()}
        for e in records:
            _check_configured(nets[e.network_id], e.ip)
        routed = False
        for i, e in enumerate(records):  # eth0, eth1, ... in the order they were joined
            n = nets[e.network_id]
            gateway = "" if n.internal or routed else n.pools[0].gateway
            self._attach_one(c, n, e, fd, f"eth{i}", gateway)
            routed = routed or bool(gateway)
        if records:
            had_ports = self._publish(c)
            crashpoints.reached("network.attach.after-publish")
            if had_ports or not self._forwarding_ready():
                self._apply_firewall()
        self._write_etc(c)
        return any(e.network_id in self._user_nets for e in records)

    def _attach_one(self, c: ContainerNet, n: Network, e: EndpointRecord, fd: int,
                    ifname: str, gateway: str) -> None:
        from pyengine.network.netlink import VethSpec

        self._ensure_bridge(n)
        host = "veth" + e.endpoint_id[:7]
        aliases = None
        if n.user_defined and c.id[:12] not in e.aliases:
            # dockerd 20.10 adds the short id to a user network's endpoint as it joins
            # (inspect's Aliases shows it from then on, after an exit too)
            aliases = e.aliases = (*e.aliases, c.id[:12])
        address, address6 = self.repo.claim(c.id, n, e.ip, host, ifname, e.ip6, aliases)
        e.address, e.address6, e.host_ifname, e.ifname = address, address6, host, ifname
        pool6 = n.pool6
        try:
            self.netlink.add_veth(fd, VethSpec(
                host, n.bridge, ifname, e.mac or ipam.mac_of(address), address,
                ipam.prefix_len(n.pools[0].subnet), gateway, n.mtu,
                address6=address6,
                prefix6=ipam.prefix_len(pool6.subnet) if pool6 is not None else 0,
                gateway6=pool6.gateway if pool6 is not None and gateway else "",
                link_local=tuple(e.link_local)))
        except BaseException:
            self.repo.deactivate(c.id, n.id)
            raise
        self._remember(e, c.name)

    def _publish(self, c: ContainerNet) -> bool:
        """-p and -P: host ports reserved and recorded; whether there are any."""
        from pyengine.network import portspec

        bindings = portspec.parse_publish(c.publish)
        if c.publish_all:
            published = {(b.container_port, b.proto) for b in bindings}
            bindings += [b for b in portspec.exposed_bindings(c.exposed)
                         if (b.container_port, b.proto) not in published]
        if not bindings:
            return False
        mappings: builtins.list[PortMapping] = []
        try:
            for b in bindings:
                if b.ip_given or not self._ipv6_listenable():
                    port = self.reservations.reserve(b.host_ip, b.host_port, b.proto,
                                                     b.host_port_end)
                    mappings.append(PortMapping(b.container_port, b.proto,
                                                b.host_ip or ANY_IP, port))
                    continue
                # dockerd's pair for an unnamed host IP: 0.0.0.0 and "::", one port number
                port = self._reserve_twins(b)
                mappings += [PortMapping(b.container_port, b.proto, ip, port)
                             for ip in (ANY_IP, ANY_IP6)]
            self.repo.add_ports(c.id, mappings)
        except BaseException:
            self.reservations.release_all([(m.host_ip, m.host_port, m.proto)
                                           for m in mappings])
            raise
        return True

    def _reserve_twins(self, b: PortBinding) -> int:
        """A port number held on both 0.0.0.0 and "::": b's port, the first of b's range free
        on both, or an ephemeral one free on both."""
        first, last = b.host_port, max(b.host_port_end, b.host_port)
        tried: builtins.list[int] = []  # held on 0.0.0.0 while "::" had them taken
        try:
            for _ in range(TWIN_TRIES):
                port = self.reservations.reserve(ANY_IP, first, b.proto,
                                                 last if last > first else 0)
                try:
                    self.reservations.reserve(ANY_IP6, port, b.proto)
                    return port
                except FailedPrecondition:
                    tried.append(port)
                    if b.host_port and port >= last:
                        raise
                    if b.host_port:
                        first = port + 1
            raise FailedPrecondition(f"Bind for {ANY_IP6}:{b.host_port or 0} failed: no port "
                                     f"free on both {ANY_IP} and {ANY_IP6}")
        finally:
            self.reservations.release_all([(ANY_IP, p, b.proto) for p in tried])

    def _proxied(self, cid: str) -> builtins.list[tuple[Target, socket.socket]]:
        """The IPv6 ports of `cid` the userland proxy serves, with a duplicate of each held
        socket, to the address of its first network (as the DNAT rules)."""
        from pyengine.network.userland_proxy import Target

        ports = [p for p in self.repo.ports_of(cid) if ":" in p.host_ip]
        address = next((e.address for e in self.repo.endpoints_of(cid)
                        if e.active and e.address), "")
        out: builtins.list[tuple[Target, socket.socket]] = []
        for p in ports if address else []:
            sock = self.reservations.duplicate(p.host_ip, p.host_port, p.proto)
            if sock is not None:
                out.append((Target(p.host_ip, p.host_port, p.proto, address,
                                   p.container_port), sock))
        return out

    async def _serve_proxied(self, cid: str) -> None:
        """The userland proxy serves `cid`'s IPv6 ports (again: to its address now)."""
        sockets = await asyncio.to_thread(self._proxied, cid)
        if sockets:
            await self._userland_proxy().serve(cid, sockets)
        elif self._proxy is not None:
            await self._proxy.close(cid)

    async def detach(self, cid: str) -> None:
        """At exit / failed start; idempotent."""
        async with self._one_at_a_time(cid):
            await self._detach_now(cid)

    async def _detach_now(self, cid: str) -> None:
        if self._dns is not None:
            await self._dns.close(cid)
        if self._proxy is not None:  # before the release: its sockets hold the ports too
            await self._proxy.close(cid)
        await asyncio.to_thread(self._detach, cid)

    def _detach(self, cid: str) -> None:
        with self._lock:
            for e in self.repo.endpoints_of(cid):
                if e.host_ifname:  # mostly gone with the namespace already: not waited for
                    self.netlink.delete_link(e.host_ifname, wait=False)
            if self._release(cid) and self._ready:
                self._apply_firewall()

    async def restore(self, c: ContainerNet, pid: int) -> None:
        """Daemon restart, container still running: its ports held again, its DNS listener
        opened again (its links and addresses are the kernel's and the database's)."""
        from pyengine.network.nsenter import open_netns

        async with self._one_at_a_time(c.id):
            embedded = await asyncio.to_thread(self._restore, c, pid)
            if c.publish or c.publish_all:
                await self._serve_proxied(c.id)
            if embedded and pid:
                fd = await asyncio.to_thread(open_netns, pid)
                try:
                    await self._dns_server().listen(c.id, fd)
                finally:
                    os.close(fd)

    def _restore(self, c: ContainerNet, pid: int) -> bool:
        self._containers[c.id] = c
        self._pids[c.id] = pid
        records = [e for e in self.repo.endpoints_of(c.id) if e.active]
        nets = {n.id: n for n in self.repo.networks()}
        for e in records:
            self._ensure_bridge(nets[e.network_id])
        for p in self.repo.ports_of(c.id):
            if (p.host_ip, p.host_port, p.proto) in self.reservations.held():
                continue
            try:
                self.reservations.reserve(p.host_ip, p.host_port, p.proto)
            except EngineError as err:  # someone took it while no daemon held it
                log.warning("a published port could not be held again",
                            extra={"fields": {"id": c.id, "port": p.host_port,
                                              "error": str(err)}})
        if records and not c.mode.startswith("container:") and \
                _stale_hosts(_read(c.etc_dir / "hosts"), [e.address for e in records]):
            self._write_etc(c)  # a connect or disconnect cut short by a kill -9
        return any(e.network_id in self._user_nets for e in records)

    async def connect(self, ref: str, c: ContainerNet, req: EndpointRequest, pid: int) -> None:
        """Add a network to a container; pid 0: not running (only recorded)."""
        n = await asyncio.to_thread(self.repo.find, ref)
        _check_configured(n, req.ip)  # docker's first check (before the mode's)
        if c.mode in ("host", "none") or c.mode.startswith("container:"):
            raise FailedPrecondition(HOST_MODE if c.mode == "host" else NONE_MODE
                                     if c.mode == "none" else
                                     "container sharing network namespace with another "
                                     "container or host cannot be connected to any other "
                                     "network")
        async with self._one_at_a_time(c.id):
            await self._connect_serialised(n, c, req, pid)

    async def _connect_serialised(self, n: Network, c: ContainerNet, req: EndpointRequest,
                                  pid: int) -> None:
        from pyengine.network.nsenter import open_netns

        self._check_request(c, n, req)
        record = await asyncio.to_thread(self.repo.add_endpoint, self._record(c, n, req))
        self.events.publish("network", "connect", n.id, container=c.id, name=n.name,
                            type=n.driver)
        if not pid:
            return
        fd = await asyncio.to_thread(open_netns, pid)
        try:
            await asyncio.to_thread(self._connect, c, n, record, fd)
            if n.user_defined and not self._dns_server().listening(c.id):
                await self._dns_server().listen(c.id, fd)
        except BaseException:
            await asyncio.to_thread(self._disconnect, c, n, True)
            raise
        finally:
            os.close(fd)

    def _connect(self, c: ContainerNet, n: Network, e: EndpointRecord, fd: int) -> None:
        self._containers[c.id] = c
        others = [o for o in self.repo.endpoints_of(c.id) if o.active]
        used = {o.ifname for o in others}
        ifname = next(f"eth{i}" for i in range(len(used) + 1) if f"eth{i}" not in used)
        gateway = "" if n.internal else n.pools[0].gateway  # EEXIST when one is there
        with self._lock:
            self._attach_one(c, n, e, fd, ifname, gateway)
            crashpoints.reached("network.connect.after-veth")
            if self.repo.ports_of(c.id) or not self._forwarding_ready():
                self._apply_firewall()
        self._write_etc(c)

    async def disconnect(self, ref: str, c: ContainerNet, pid: int, force: bool = False) -> None:
        """Remove a network from a container (pid 0: not running)."""
        n = await asyncio.to_thread(self.repo.find, ref)
        if n.driver == "host":
            raise FailedPrecondition(HOST_MODE)
        async with self._one_at_a_time(c.id):
            left = await asyncio.to_thread(self._disconnect, c, n, bool(pid), force)
            if pid and self._dns is not None and not left:
                await self._dns.close(c.id)
            if pid and self._proxy is not None and self._proxy.serving(c.id):
                await self._serve_proxied(c.id)  # its first network may have changed
        self.events.publish("network", "disconnect", n.id, container=c.id, name=n.name,
                            type=n.driver)

    def _disconnect(self, c: ContainerNet, n: Network, running: bool,
                    force: bool = False) -> bool:
        """Whether the container is still on a user-defined network."""
        with self._lock:
            records = {e.network_id: e for e in self.repo.endpoints_of(c.id)}
            e = records.pop(n.id, None)
            if e is None:  # forced too (dockerd 20.10: its 500 with this text)
                raise FailedPrecondition(f"container {c.id} is not connected to network "
                                         f"{n.name}")
            if e.host_ifname:
                self.netlink.delete_link(e.host_ifname)
            self.repo.remove_endpoint(c.id, n.id)
            self._active.get(n.id, {}).pop(c.id, None)
            if e.active and self.repo.ports_of(c.id):
                self._apply_firewall()
        if running:
            self._write_etc(c)
        return any(nid in self._user_nets for nid in records)

    def rename(self, cid: str, name: str) -> None:
        """The container's new name answers DNS questions (blocking)."""
        self.repo.set_name(cid, name)
        for members in list(self._active.values()):  # a start may add a network
            a = members.get(cid)
            if a is not None:
                members[cid] = dataclasses.replace(a, name=name)

    def settings(self, cid: str, mode: str = "") -> NetworkSettings:
        """inspect's NetworkSettings and `port`'s mappings; `mode` "none"/"host" (the
        container's) shows that builtin network as docker does: no addresses, an endpoint id
        while running."""
        nets = {n.id: n for n in self.repo.networks()}
        out = NetworkSettings()
        pid = self._pids.get(cid, 0)
        out.sandbox_key = f"/proc/{pid}/ns/net" if pid else ""
        if mode in ("none", "host"):
            n = next(n for n in nets.values() if n.name == mode)
            endpoint = hashlib.sha256(f"{n.id}/{cid}".encode()).hexdigest() if pid else ""
            out.networks[n.name] = EndpointView(n.id, endpoint, "", 0, "", "", ())
            return out
        for e in self.repo.endpoints_of(cid):
            n = nets[e.network_id]
            active = e.active
            pool6 = n.pool6 if active and e.address6 else None
            out.networks[n.name] = EndpointView(
                n.id, e.endpoint_id if active else "", e.address,
                ipam.prefix_len(n.pools[0].subnet) if active and n.pools else 0,
                n.pools[0].gateway if active and n.pools else "",
                (e.mac or ipam.mac_of(e.address)) if active else e.mac, e.aliases,
                ip6=e.address6 if pool6 is not None else "",
                prefix6=ipam.prefix_len(pool6.subnet) if pool6 is not None else 0,
                gateway6=pool6.gateway if pool6 is not None else "",
                config=EndpointRequest(n.id, e.ip, e.aliases, e.links, e.mac, e.ip6,
                                       e.link_local, e.driver_opts))
        out.ports = self.repo.ports_of(cid)
        return out

    # -- embedded DNS's questions (on the loop: memory only) --------------------------------

    def lookup(self, cid: str, qname: str, qtype: int) -> builtins.list[str] | None:
        """A records (container names, "name.network", aliases, 12-char ids) and PTR records
        ("name.network" of a dotted address) of the containers on `cid`'s user-defined
        networks; None: not ours (forward it). docker's ndots rule: when the container's
        --dns-option sets ndots, an unknown single-label name gets [] (an empty NOERROR, so
        the client goes on with its search domains) instead of being forwarded."""
        name = qname.rstrip(".").lower()
        mine = [(self._net_names.get(nid, ""), members)
                for nid, members in list(self._active.items())
                if nid in self._user_nets and cid in members]
        if qtype == QTYPE_PTR:
            address = _ptr_address(name) or name
            for net_name, members in mine:
                for a in list(members.values()):
                    if a.address == address:
                        return [f"{a.name}.{net_name}"]
            return None
        found: builtins.list[str] = []
        for net_name, members in mine:
            short = name.removesuffix("." + net_name.lower())
            short = _link_target(members[cid].links, short)  # a link's alias: its target
            for a in list(members.values()):
                names = (a.name.lower(), a.cid[:12], *(alias.lower() for alias in a.aliases))
                if short in names and a.address not in found:
                    found.append(a.address)
        if not found and "." not in name and _ndots_set(self._containers.get(cid)):
            return []
        return found or None

    def upstreams(self, cid: str) -> Sequence[tuple[str, int]]:
        """Where the embedded DNS forwards `cid`'s other questions: its --dns servers, else
        the daemon's --dns-upstream, else the host's resolv.conf nameservers."""
        from pyengine.config import parse_upstream

        c = self._containers.get(cid)
        if c is not None and c.dns:
            return [(ip, 53) for ip in c.dns]
        if self.config.dns_upstream:
            return [parse_upstream(s) for s in self.config.dns_upstream]
        from pyengine.network import etcfiles

        return [(ip, 53) for ip in etcfiles.nameservers(self._host_resolv())]

    # -- kernel state -----------------------------------------------------------------------

    def _ensure_bridge(self, n: Network) -> None:
        if n.bridge in self._ready:
            return
        pool, pool6 = n.pools[0], n.pool6
        if pool6 is None:
            self.netlink.ensure_bridge(n.bridge, pool.gateway, ipam.prefix_len(pool.subnet),
                                       n.mtu)
        else:  # the IPv6 gateway on the bridge too (no ip6tables: dockerd 20.10's default)
            self.netlink.ensure_bridge(n.bridge, pool.gateway, ipam.prefix_len(pool.subnet),
                                       n.mtu, pool6.gateway, ipam.prefix_len(pool6.subnet))
        # published ports on 127.0.0.1 reach containers through DNAT + MASQUERADE
        self.netlink.set_sysctl(f"net.ipv4.conf.{n.bridge}.route_localnet", "1")
        self._ready.add(n.bridge)
        self._forwarding = False

    def _forwarding_ready(self) -> bool:
        """ip_forward set and the chains made for every bridge made so far."""
        return self._forwarding

    def _apply_firewall(self) -> None:
        """Every chain of ours rebuilt from the records (one iptables-restore)."""
        from pyengine.network.firewall import BridgeRules, DnatRule

        with self._lock:
            self._apply_rules(BridgeRules, DnatRule)

    def _apply_rules(self, bridge_rules: type[BridgeRules], dnat_rule: type[DnatRule]) -> None:
        if self._ready:
            self.netlink.set_sysctl("net.ipv4.ip_forward", "1")
        nets = [n for n in self.repo.networks() if n.driver == "bridge" and n.bridge in
                self._ready]
        by_id = {n.id: n for n in nets}
        bridges = [bridge_rules(n.bridge, n.pools[0].subnet, n.internal, True) for n in nets]
        target: dict[str, tuple[str, str]] = {}  # cid -> (address, bridge) of its first net
        for e in sorted(self.repo.all_endpoints(), key=lambda e: e.position):
            if e.active and e.network_id in by_id and e.container_id not in target:
                target[e.container_id] = (e.address, by_id[e.network_id].bridge)
        dnats = [dnat_rule(p.host_ip, p.host_port, p.proto, target[cid][0], p.container_port,
                          target[cid][1])
                 for cid, ports in self.repo.all_ports().items() if cid in target
                 for p in ports if ":" not in p.host_ip]  # IPv6: the userland proxy's
        self.firewall.apply(bridges, dnats)
        self._forwarding = True

    def _remember(self, e: EndpointRecord, name: str = "") -> None:
        self._active.setdefault(e.network_id, {})[e.container_id] = _Active(
            e.container_id, name or e.container_name, e.aliases, e.address, e.links)

    # -- /etc files -------------------------------------------------------------------------

    def _host_resolv(self) -> str:
        from pyengine.network import etcfiles

        return etcfiles.read_host_resolv(self.host_resolv)

    async def refresh_etc(self, c: ContainerNet) -> None:
        """A running container's hosts, hostname and resolv.conf written again from what it
        has now (rm --link: the link's hosts line goes, as with dockerd); after any attach,
        connect or disconnect of it under way, and not once it is detached."""
        async with self._one_at_a_time(c.id):
            if c.id in self._pids:
                await asyncio.to_thread(self._write_etc, c)

    def _write_etc(self, c: ContainerNet) -> None:
        """hosts, hostname and resolv.conf of `c`, rewritten in place (same inodes)."""
        from pyengine.network import etcfiles

        if c.mode.startswith("container:"):
            return  # the other container's files are the ones it sees
        host_mode = c.mode == "host"
        records = [e for e in self.repo.endpoints_of(c.id) if e.active]
        ips = [a for e in records for a in (e.address, e.address6) if a]  # dockerd's order
        embedded = any(e.network_id in self._user_nets for e in records)
        if host_mode:
            hosts = etcfiles.host_mode_hosts(c.extra_hosts, _read(HOST_HOSTS))
        else:
            hosts = etcfiles.hosts_content(c.hostname, c.domainname, ips, c.extra_hosts,
                                           self._link_lines(c))
        etcfiles.write_in_place(c.etc_dir / "hosts", hosts)
        etcfiles.write_in_place(c.etc_dir / "resolv.conf", etcfiles.resolv_content(
            embedded, c.dns, c.dns_search, c.dns_options, self._host_resolv(),
            host_mode=host_mode, ipv6=any(e.address6 for e in records)))
        etcfiles.write_in_place(c.etc_dir / "hostname", etcfiles.hostname_content(c.hostname))

    def _link_lines(self, c: ContainerNet) -> builtins.list[str]:
        """classic docker's hosts lines of the --link targets that are running."""
        from pyengine.network import links

        lines: builtins.list[str] = []
        for link in c.links:
            address = self.address_of(link.id)
            if address:
                lines.append(links.hosts_line(link, address))
        return lines

    def address_of(self, cid: str) -> str:
        """`cid`'s address on its first network ("" when not attached); memory only, so the
        loop may ask (the containers domain's --link environment)."""
        for members in list(self._active.values()):
            a = members.get(cid)
            if a is not None:
                return a.address
        return ""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _stale_hosts(hosts: bytes, addresses: Sequence[str]) -> bool:
    """Whether a container's hosts file lacks a line of one of its addresses (its /etc files
    were not written after its endpoints changed)."""
    lines = {line.split(b"\t", 1)[0] for line in hosts.splitlines()}
    return any(a.encode() not in lines for a in addresses)


def _new_id() -> str:
    return secrets.token_hex(32)


def _check_name(name: str) -> None:
    """docker's rule (libnetwork's): any name that is not blank (its text; its status 500)."""
    if not name.strip():
        raise InvalidArgument(f"invalid name: {name}")


def _check_configured(n: Network, ip: str) -> None:
    if ip and n.pools and n.pools[0].auto:
        raise InvalidArgument("user specified IP address is supported only when connecting "
                              "to networks with user configured subnets")


def _check_link_local(address: str) -> None:
    """--link-local-ip: an IPv4 (169.254.0.0/16) or IPv6 (fe80::/10) link-local address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidArgument(f"invalid link-local IP address: {address}") from None
    if not parsed.is_link_local:
        raise InvalidArgument(f"invalid link-local IP address {address}: not in 169.254.0.0/16 "
                              "or fe80::/10")


def _check_mac(mac: str) -> None:
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(ch in "0123456789abcdefABCDEF"
                                                          for ch in p) for p in parts):
        raise InvalidArgument(f"{mac} is not a valid mac address")


def _mtu(options: Mapping[str, str]) -> int:
    raw = options.get(MTU_OPTION, "")
    if not raw:
        return DEFAULT_MTU
    try:
        mtu = int(raw)
    except ValueError:
        mtu = 0
    if not 68 <= mtu <= 65535:
        raise InvalidArgument(f"invalid MTU number: {raw}")
    return mtu


def _default_bridge_options() -> dict[str, str]:
    return {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        BRIDGE_NAME_OPTION: DEFAULT_BRIDGE_IFNAME,
        MTU_OPTION: str(DEFAULT_MTU),
    }


def _ipam_config(p: IpamPool) -> dict[str, Any]:
    """docker's order; the gateway only when given or the subnet picked (as dockerd 20.10)."""
    out: dict[str, Any] = {"Subnet": p.subnet}
    if p.ip_range:
        out["IPRange"] = p.ip_range
    if p.gateway_given or p.auto:
        out["Gateway"] = p.gateway
    if p.aux:
        out["AuxiliaryAddresses"] = dict(p.aux)
    return out


def _label_matches(n: Network, spec: str) -> bool:
    key, sep, value = spec.partition("=")
    return key in n.labels and (not sep or n.labels[key] == value)


def _matches(n: Network, wanted: Mapping[str, Sequence[str]]) -> bool:
    for key, values in wanted.items():
        if key == "name" and not any(v in n.name for v in values):
            return False
        if key == "id" and not any(n.id.startswith(v) for v in values):
            return False
        if key == "driver" and n.driver not in values:
            return False
        if key == "scope" and "local" not in values:
            return False
        if key == "type" and ("builtin" if n.builtin else "custom") not in values:
            return False
        if key == "label" and not all(_label_matches(n, v) for v in values):
            return False
    return True


def _ndots_set(c: ContainerNet | None) -> bool:
    """Whether the container's resolv.conf options set ndots (docker: any value >= 0)."""
    return c is not None and any(o.startswith("ndots:") and o[6:].isdigit()
                                 for o in c.dns_options)


def _link_target(links: Sequence[str], name: str) -> str:
    """A name as asked, or the container a link ("target:alias") of the asker names so."""
    for link in links:
        target, _, alias = link.partition(":")
        if name == (alias or target).lower():
            return target.lower()
    return name


def _ptr_address(name: str) -> str | None:
    suffix = ".in-addr.arpa"
    if not name.endswith(suffix):
        return None
    parts = name[: -len(suffix)].split(".")
    if len(parts) != 4:
        return None
    return ".".join(reversed(parts))
