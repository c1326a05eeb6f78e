"""The network domain's values: what containers ask of networks, networks, endpoints, ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BRIDGE = "bridge"  # the default network's name (docker's)
BUILTIN = ("bridge", "host", "none")  # networks the daemon makes; never removed by users


@dataclass(frozen=True)
class EndpointRequest:
    """What a container asks of one network."""

    network: str  # name, id or id prefix as the user gave it
    ip: str = ""  # --ip
    aliases: tuple[str, ...] = ()
    # "name:alias" (default bridge only), resolved by the caller: ("<target name>:<alias>")
    links: tuple[str, ...] = ()
    mac: str = ""
    ip6: str = ""  # --ip6 (an IPv6 network's)
    link_local: tuple[str, ...] = ()  # --link-local-ip: added to the interface as they are
    driver_opts: Mapping[str, str] = field(default_factory=dict)  # kept and shown


@dataclass(frozen=True)
class LinkTarget:
    """A --link resolved by the containers domain."""

    alias: str
    name: str
    id: str
    env: tuple[str, ...]
    exposed: tuple[str, ...]


@dataclass(frozen=True)
class ContainerNet:
    """What the network domain needs to know of a container."""

    id: str
    name: str
    hostname: str
    domainname: str
    mode: str  # "bridge" | "none" | "host" | "container:<id>" | a network name
    etc_dir: Path  # where hosts, hostname, resolv.conf are rewritten in place
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()  # "host:ip"
    publish: tuple[str, ...] = ()  # raw -p
    publish_all: bool = False
    exposed: tuple[str, ...] = ()  # image ExposedPorts + --expose: "80/tcp"
    links: tuple[LinkTarget, ...] = ()  # filled by the caller for the default bridge


@dataclass(frozen=True)
class IpamPool:
    """One IPAM config of a network: its subnet, gateway and the range addresses come from."""

    subnet: str  # "172.18.0.0/16"
    gateway: str  # "172.18.0.1"
    ip_range: str = ""  # "" = the whole subnet
    auto: bool = False  # the daemon picked the subnet (no --ip on it: docker's rule)
    gateway_given: bool = True  # False: a subnet given without its gateway (docker's inspect
    # then lists the subnet alone)
    aux: dict[str, str] = field(default_factory=dict)  # AuxiliaryAddresses: never handed out

    @property
    def ipv6(self) -> bool:
        return ":" in self.subnet


@dataclass(frozen=True)
class PoolRequest:
    """An IPAM config as the user gave it (subnet "" on a create: the daemon picks one)."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    aux: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Network:
    """A network as recorded. `bridge` is the Linux bridge's name ("" for host/none). `pools`:
    the IPv4 pool first (every bridge network has one), then an IPv6 one if any; containers
    get an IPv6 address only when `ipv6` (docker's EnableIPv6)."""

    id: str
    name: str
    driver: str  # "bridge" | "host" | "null"
    created: str  # RFC 3339
    bridge: str = ""
    pools: list[IpamPool] = field(default_factory=list)
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    mtu: int = 1500
    ipv6: bool = False
    ipam_options: dict[str, str] | None = None  # IPAM.Options as given (docker: null if not)

    @property
    def pool6(self) -> IpamPool | None:
        """The IPv6 pool containers get addresses from (None: no IPv6 on this network)."""
        return next((p for p in self.pools if p.ipv6), None) if self.ipv6 else None

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN

    @property
    def user_defined(self) -> bool:
        """docker's user-defined networks: embedded DNS, aliases, --ip allowed."""
        return not self.builtin


@dataclass(frozen=True)
class EndpointView:
    """One network of a container, as inspect's NetworkSettings.Networks shows it."""

    network_id: str
    endpoint_id: str
    ip: str
    prefix_len: int
    gateway: str
    mac: str
    aliases: tuple[str, ...]
    ip6: str = ""
    prefix6: int = 0
    gateway6: str = ""
    config: EndpointRequest | None = None  # as asked at create/connect (IPAMConfig, Links,
    # DriverOpts; MacAddress before the first start)


@dataclass(frozen=True)
class PortMapping:
    """A published port as mapped (host_port 0 never: the port actually reserved)."""

    container_port: int
    proto: str  # "tcp" | "udp"
    host_ip: str
    host_port: int


@dataclass
class NetworkSettings:
    """inspect's NetworkSettings and `port`'s answer for one container."""

    networks: dict[str, EndpointView] = field(default_factory=dict)
    ports: list[PortMapping] = field(default_factory=list)
    sandbox_key: str = ""  # "/proc/PID/ns/net" while running, else ""
