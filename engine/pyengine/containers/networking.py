"""A container's networking, between its record and the network domain (network/service.py).

Builds the domain's `ContainerNet` / `EndpointRequest` / `LinkTarget` values from a container's
record (its Spec and the image's ExposedPorts kept at create) and calls `NetworkService` at the
lifecycle's points: register at create, attach between the shim's Create and Start, detach at
every exit, unregister at removal, restore after a daemon restart. `--network container:NAME`
is handled here: at start the target must be running; the bundle's config then joins the
target's namespace (/proc/PID/ns/net) and shares its hostname, hosts and resolv.conf.
Publishes docker's "network connect" / "network disconnect" events of a container's start and
exit (the domain publishes those of `network connect` / `network disconnect`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyengine.containers.model import RUNNING, Container, Spec
from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound

if TYPE_CHECKING:
    from pyengine.containers.service import ContainerService
    from pyengine.network.model import ContainerNet, EndpointRequest, LinkTarget, NetworkSettings
    from pyengine.network.service import NetworkService

log = logging.getLogger("pyengine.containers")

CONTAINER_PREFIX = "container:"
ETC_FILES = ("hostname", "hosts", "resolv.conf")
# docker 20.10's runconfig errors for options a shared or host namespace cannot have
SHARED_CONFLICTS: tuple[tuple[str, str], ...] = (
    ("publish", "conflicting options: port publishing and the container type network mode"),
    ("publish_all", "conflicting options: port publishing and the container type network "
                    "mode"),
    ("expose", "conflicting options: port exposing and the container type network mode"),
    ("dns", "conflicting options: dns and the network mode"),
    ("dns_search", "conflicting options: dns and the network mode"),
    ("dns_options", "conflicting options: dns and the network mode"),
    ("add_hosts", "conflicting options: custom host-to-IP mapping and the network mode"),
    ("mac_address", "conflicting options: mac-address and the network mode"),
    ("hostname", "conflicting options: hostname and the network mode"),
    ("links", "conflicting options: container type network can't be used with links. This "
              "would result in undefined behavior"),
)
SHARED_NAMESPACE = ("container sharing network namespace with another container or host "
                    "cannot be connected to any other network")


@dataclass(frozen=True)
class Published:
    """One line of docker's port list: a container port, published when public_port > 0."""

    ip: str
    private_port: int
    public_port: int
    type: str


def mode_of(spec: Spec) -> str:
    """The network mode as the domain names it: "" and "default" are the default bridge."""
    return "bridge" if spec.network in ("", "default") else spec.network


def shared_target(spec: Spec) -> str:
    """The container named by --network container:NAME, or ""."""
    return spec.network[len(CONTAINER_PREFIX):] if spec.network.startswith(CONTAINER_PREFIX) \
        else ""


def bundle_network(spec: Spec) -> str:
    """bundles' network option at create: the daemon's namespace for host, else a new one (a
    container:NAME's config is pointed at its target's namespace at each start)."""
    return "host" if spec.network == "host" else "private"


def exposed_ports(image_section: Mapping[str, Any], spec: Spec) -> list[str]:
    """The image's ExposedPorts plus --expose and the ports -p publishes ("80/tcp" keys, as
    docker's Config.ExposedPorts), in order, once each."""
    from pyengine.network.portspec import parse_expose, parse_publish

    image = [str(key) for key in image_section.get("ExposedPorts") or {}]
    return list(dict.fromkeys([*parse_expose(image), *parse_expose(spec.expose),
                               *(b.key for b in parse_publish(spec.publish))]))


def split_link(text: str) -> tuple[str, str]:
    """--link name[:alias] -> (name, alias)."""
    name, _, alias = text.partition(":")
    name = name.lstrip("/")
    if not name:
        raise InvalidArgument(f"bad format for links: {text}")
    return name, alias or name


def check_modes(spec: Spec) -> None:
    """The options a container:NAME or host network cannot have (docker's errors)."""
    if shared_target(spec):
        for attr, message in SHARED_CONFLICTS:
            if getattr(spec, attr):
                raise InvalidArgument(message)
        if spec.network_aliases:  # (--ip is ignored there, as docker does)
            raise InvalidArgument("network-scoped aliases are only supported for "
                                  "user-defined networks")
    elif spec.network == "host":
        if spec.links:
            raise InvalidArgument("conflicting options: host type networking can't be used "
                                  "with links. This would result in undefined behavior")
        if spec.mac_address:
            raise InvalidArgument("conflicting options: mac-address and the network mode")


class ContainerNetworking:
    """The containers domain's side of networking; `networks` None: containers get a
    namespace of their own with lo only ("" and none) or the daemon's (host)."""

    def __init__(self, owner: ContainerService, networks: NetworkService | None) -> None:
        self.owner = owner
        self.networks = networks
        self._attached: dict[str, list[tuple[str, str, str]]] = {}  # cid -> (id, name, driver)

    # -- create / remove (blocking) -------------------------------------------------------

    def check(self, spec: Spec) -> None:
        """At create, before anything is made: docker's errors for modes and targets; a
        container:NAME is recorded as container:<id> with the target's hostname (docker's)."""
        check_modes(spec)
        if spec.publish:
            from pyengine.network.portspec import parse_publish

            parse_publish(spec.publish)  # docker's error for a bad -p before anything is made
        target = shared_target(spec)
        if target:
            found = self.owner.get(target)  # NotFound: "No such container: X"
            spec.network = CONTAINER_PREFIX + found.id
            spec.hostname = str(found.config.get("hostname") or found.id[:12])
        elif self.networks is None and spec.network not in ("", "default", "none", "host"):
            raise NotFound(f"network {spec.network} not found")

    def register(self, c: Container) -> None:
        """At create (the record not yet added): the domain validates and records the
        container's endpoint configs."""
        if self.networks is None:
            return
        first = self._first_request(c)
        self.networks.register(self.container_net(c), first)

    def unregister(self, cid: str) -> None:
        """At rm (and when a create fails): the domain forgets the container; a failure is
        logged (the removal goes on)."""
        if self.networks is None:
            return
        try:
            self.networks.unregister(cid)
        except NotFound:
            pass
        except EngineError as err:
            log.warning("forgetting a container's networks failed",
                        extra={"fields": {"id": cid, "error": str(err)}})

    def _first_request(self, c: Container) -> EndpointRequest | None:
        from pyengine.network.model import EndpointRequest

        spec = c.spec
        mode = mode_of(spec)
        if mode in ("none", "host") or mode.startswith(CONTAINER_PREFIX):
            return None
        links: tuple[str, ...] = ()
        if mode != "bridge":  # on a user network a link is an alias of the target
            links = tuple(dict.fromkeys(":".join(split_link(item))
                                        for item in (*spec.links, *spec.endpoint_links)))
        return EndpointRequest(network=mode, ip=spec.ip, aliases=tuple(spec.network_aliases),
                               links=links, mac=spec.mac_address, ip6=spec.ip6,
                               link_local=tuple(spec.link_local_ips),
                               driver_opts=dict(spec.endpoint_options))

    def container_net(self, c: Container, resolve_links: bool = False) -> ContainerNet:
        """The domain's view of `c`; `resolve_links`: the default bridge's --link targets
        looked up (they must run: docker's error otherwise)."""
        from pyengine.network.model import ContainerNet

        spec = c.spec
        mode = mode_of(spec)
        target = shared_target(spec)
        if target:
            mode = CONTAINER_PREFIX + self.owner.resolve(target)
        links: tuple[LinkTarget, ...] = ()
        if mode == "bridge" and spec.links:
            links = tuple(self._link_target(c, item, resolve_links) for item in spec.links)
        return ContainerNet(
            id=c.id, name=c.name, hostname=str(c.config.get("hostname") or c.id[:12]),
            domainname="", mode=mode, etc_dir=self.owner.bundles / c.id,
            dns=tuple(spec.dns), dns_search=tuple(spec.dns_search),
            dns_options=tuple(spec.dns_options), extra_hosts=tuple(spec.add_hosts),
            publish=tuple(spec.publish), publish_all=spec.publish_all,
            exposed=tuple(c.config.get("exposed") or ()), links=links)

    def _link_target(self, c: Container, item: str, running: bool) -> LinkTarget:
        from pyengine.network.model import LinkTarget

        name, alias = split_link(item)
        try:
            target = self.owner.get(name)
        except NotFound:
            raise NotFound(f"could not get container for {name}: No such container: "
                           f"{name}") from None
        if running and target.state.status != RUNNING:
            raise FailedPrecondition(f"Cannot link to a non running container: /{target.name} "
                                     f"AS /{c.name}/{alias}")
        return LinkTarget(alias=alias, name=target.name, id=target.id,
                          env=tuple(target.config.get("env") or ()),
                          exposed=tuple(target.config.get("exposed") or ()))

    # -- start / exit (the loop) ----------------------------------------------------------

    async def prepare(self, c: Container) -> None:
        """Before the shim's Create: a container:NAME's config joins its target's namespace
        (running, else docker's error) and shares its hostname and /etc files; a --link's
        variables (classic docker, the default bridge) join the process's environment."""
        target_ref = shared_target(c.spec)
        if target_ref:
            target = await asyncio.to_thread(self.owner.get, target_ref)
            if target.state.status != RUNNING or not target.state.pid:
                raise FailedPrecondition(
                    f"cannot join network of a non running container: {target.id}")
            await asyncio.to_thread(join_namespace, self.owner.bundles / c.id,
                                    self.owner.bundles / target.id, target.state.pid,
                                    str(target.config.get("hostname") or target.id[:12]),
                                    c.spec.sysctls)
        elif c.spec.links and mode_of(c.spec) == "bridge" and self.networks is not None:
            env = await asyncio.to_thread(self._link_env, c)
            await asyncio.to_thread(rewrite_config, self.owner.bundles / c.id,
                                    lambda config: set_env(config, env))

    def _link_env(self, c: Container) -> list[str]:
        """The process's environment with its links' variables (the container's own win)."""
        from pyengine.network.links import link_env

        assert self.networks is not None
        added: list[str] = []
        for item in c.spec.links:
            target = self._link_target(c, item, running=True)
            view = self.networks.settings(target.id).networks.get("bridge")
            added += link_env(target, view.ip if view is not None else "", c.name)
        own = list(c.config.get("env") or ())
        names = {entry.partition("=")[0] for entry in own}
        return [entry for entry in added if entry.partition("=")[0] not in names] + own

    async def attach(self, c: Container, pid: int) -> None:
        """After the shim's Create, before Start: the domain configures the namespace; on
        failure it undoes its own work and the start fails."""
        if self.networks is None:
            return
        net = await asyncio.to_thread(self.container_net, c, True)
        await self.networks.attach(net, pid)
        await self._connected(c.id)

    async def restore(self, c: Container, pid: int) -> None:
        """After a daemon restart, for a container still running."""
        if self.networks is None:
            return
        net = await asyncio.to_thread(self.container_net, c)
        await self.networks.restore(net, pid)
        self._attached[c.id] = await asyncio.to_thread(self._endpoints, c.id)

    async def reconcile(self, running: Sequence[str]) -> None:
        """After a daemon restart: what containers that are not running any more held goes."""
        if self.networks is not None:
            await self.networks.reconcile(set(running))

    async def detach(self, cid: str) -> None:
        """At every exit and after a failed start; idempotent."""
        if self.networks is None:
            return
        try:
            await self.networks.detach(cid)
        except EngineError as err:
            log.warning("detaching a container from its networks failed",
                        extra={"fields": {"id": cid, "error": str(err)}})
        for network_id, name, driver in self._attached.pop(cid, []):
            self._publish("disconnect", network_id, cid, name, driver)

    async def _connected(self, cid: str) -> None:
        self._attached[cid] = await asyncio.to_thread(self._endpoints, cid)
        for network_id, name, driver in self._attached[cid]:
            self._publish("connect", network_id, cid, name, driver)

    def _endpoints(self, cid: str) -> list[tuple[str, str, str]]:
        assert self.networks is not None
        out = []
        for name, view in self.networks.settings(cid).networks.items():
            try:
                driver = self.networks.get(view.network_id or name).driver
            except NotFound:
                driver = "bridge"
            out.append((view.network_id, name, driver))
        return out

    def _publish(self, action: str, network_id: str, cid: str, name: str, driver: str) -> None:
        self.owner.events.publish("network", action, network_id, container=cid, name=name,
                                  type=driver)

    async def remove_link(self, ref: str) -> None:
        """docker's `rm --link PARENT/ALIAS`: the parent's legacy link of that alias is
        forgotten (HostConfig.Links), and a running parent's hosts file loses its line (its
        environment stays, as with dockerd). docker's errors: a plain container name, and a
        link not there."""
        parent = await asyncio.to_thread(self._forget_link, ref)
        if self.networks is None or parent.state.status != RUNNING:
            return
        try:
            net = await asyncio.to_thread(self.container_net, parent)
            await self.networks.refresh_etc(net)
        except (EngineError, OSError) as err:  # the link is gone all the same (dockerd logs
            log.warning("rm --link: hosts file not rewritten",  # its update's failure too)
                        extra={"fields": {"id": parent.id, "error": str(err)}})

    def _forget_link(self, ref: str) -> Container:
        parent_ref, sep, alias = ref.strip("/").rpartition("/")
        if not sep:
            raise FailedPrecondition("Conflict, cannot remove the default link name of the "
                                     "container")  # dockerd 20.10's text (its status: 500)
        try:
            parent = self.owner.get(parent_ref)
        except NotFound:
            raise NotFound(f"No such container: {ref.lstrip('/')}") from None
        kept = [item for item in parent.spec.links if split_link(item)[1] != alias]
        if len(kept) == len(parent.spec.links):
            raise NotFound(f"No such container: {ref.lstrip('/')}")
        parent.spec.links = kept
        self.owner.repo.save_spec(parent.id, parent.spec)
        return parent

    # -- network connect / disconnect -----------------------------------------------------

    async def connect(self, network: str, ref: str, ip: str = "",
                      aliases: Sequence[str] = (), links: Sequence[str] = (), *,
                      ip6: str = "", link_local: Sequence[str] = (), mac: str = "",
                      driver_opts: Mapping[str, str] | None = None) -> None:
        from pyengine.network.model import EndpointRequest

        networks = self._required()
        c = await asyncio.to_thread(self.owner.get, ref)
        if shared_target(c.spec) or c.spec.network == "host":
            raise FailedPrecondition(SHARED_NAMESPACE)
        found = await asyncio.to_thread(networks.get, network)
        if found.name in ("host", "none"):
            raise FailedPrecondition("container cannot be disconnected from host network or "
                                     "connected to host network")
        request = EndpointRequest(
            network=network, ip=ip, aliases=tuple(aliases),
            links=tuple(":".join(split_link(item)) for item in links), mac=mac, ip6=ip6,
            link_local=tuple(link_local), driver_opts=dict(driver_opts or {}))
        running = c.state.status == RUNNING and c.state.pid > 0
        net = await asyncio.to_thread(self.container_net, c)
        await networks.connect(network, net, request, c.state.pid if running else 0)
        if running:  # the domain published the connect; its disconnect at exit is ours
            self._attached.setdefault(c.id, []).append((found.id, found.name, found.driver))

    async def disconnect(self, network: str, ref: str, force: bool = False) -> None:
        networks = self._required()
        try:
            c = await asyncio.to_thread(self.owner.get, ref)
        except NotFound:
            if not force:
                raise
            # docker 20.10 then force-deletes an endpoint of that name; a removed container's
            # endpoints went with it here, so there is none: its 404 (the network's first)
            await asyncio.to_thread(networks.get, network)
            raise NotFound(f"endpoint {ref} not found") from None
        found = await asyncio.to_thread(networks.get, network)
        if shared_target(c.spec) or c.spec.network == "host" or found.name == "host":
            raise FailedPrecondition("container cannot be disconnected from host network or "
                                     "connected to host network")
        running = c.state.status == RUNNING and c.state.pid > 0
        net = await asyncio.to_thread(self.container_net, c)
        await networks.disconnect(network, net, c.state.pid if running else 0, force=force)
        held = self._attached.get(c.id, [])  # the domain published the disconnect
        self._attached[c.id] = [item for item in held if item[0] != found.id]

    def _required(self) -> NetworkService:
        if self.networks is None:
            raise FailedPrecondition("this daemon runs without networks")
        return self.networks

    # -- views (blocking) -----------------------------------------------------------------

    def settings(self, c: Container) -> NetworkSettings | None:
        if self.networks is None:
            return None
        try:
            return self.networks.settings(c.id, mode_of(c.spec))
        except NotFound:
            return None

    def published(self, c: Container) -> list[Published]:
        """docker's port list of a container: its mappings, then exposed ports that have
        none (ps shows both; port only the first)."""
        settings = self.settings(c) if c.state.status == RUNNING else None
        out = [Published(m.host_ip, m.container_port, m.host_port, m.proto)
               for m in (settings.ports if settings is not None else [])]
        mapped = {f"{p.private_port}/{p.type}" for p in out}
        for key in c.config.get("exposed") or ():
            if key not in mapped:
                port, _, proto = key.partition("/")
                out.append(Published("", int(port), 0, proto))
        return out

    def network_ids(self, c: Container) -> dict[str, str]:
        """The networks `c` is on (or will be, not running): name -> id (ps --filter)."""
        settings = self.settings(c)
        if settings is not None and settings.networks:
            return {name: view.network_id for name, view in settings.networks.items()}
        return dict.fromkeys(self.network_names(c), "")

    def network_names(self, c: Container) -> list[str]:
        settings = self.settings(c)
        if settings is not None and settings.networks:
            return sorted(settings.networks)
        target = shared_target(c.spec)
        return [] if target else [mode_of(c.spec) if self.networks is not None
                                  else c.spec.network or "none"]

    def endpoints(self, c: Container) -> dict[str, Any]:
        """docker's NetworkSettings.Networks of `c`; not running: its networks with empty
        endpoints (docker's list shows them so)."""
        found = endpoint_documents(c, self.settings(c))
        if found:
            return found
        return {name: {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": nid,
                       "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
                       "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                       "MacAddress": "", "DriverOpts": None}
                for name, nid in self.network_ids(c).items()}

    def inspect_parts(self, c: Container) -> dict[str, Any]:
        """inspect's NetworkSettings, and the network parts of HostConfig and Config; a
        container:ID's /etc files are its target's."""
        etc = self.owner.bundles / (shared_target(c.spec) or c.id)
        return inspect_document(c, self.settings(c), etc)


def rewrite_config(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """config.json of a bundle changed by `change` (in place), written whole (rename)."""
    path = bundle / "config.json"
    config = json.loads(path.read_text())
    change(config)
    tmp = path.with_name(".config.json.tmp")
    tmp.write_text(json.dumps(config, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


def set_env(config: dict[str, Any], env: list[str]) -> None:
    config["process"]["env"] = env


def join_namespace(bundle: Path, target_bundle: Path, pid: int, hostname: str,
                   asked: Mapping[str, str] | None = None) -> None:
    """Point a bundle's config at the namespace of the process `pid` and at the target's
    hostname, hosts and resolv.conf (the config is written again at every start). `asked`:
    the user's --sysctl settings."""
    rewrite_config(bundle, lambda config: _join(config, target_bundle, pid, hostname,
                                                asked or {}))


def _join(config: dict[str, Any], target_bundle: Path, pid: int, hostname: str,
          asked: Mapping[str, str]) -> None:
    linux = config["linux"]
    linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "network"]
    linux["namespaces"].append({"type": "network", "path": f"/proc/{pid}/ns/net"})
    # the daemon's own net.* defaults are for a namespace of the container's own; the user's
    # --sysctl net.* go to the joined one, as dockerd's do (they change the target's too)
    sysctl = {k: v for k, v in (linux.get("sysctl") or {}).items()
              if not k.startswith("net.") or k in asked}
    if sysctl:
        linux["sysctl"] = sysctl
    else:
        linux.pop("sysctl", None)
    if "hostname" in config:  # none with UTSMode host: the machine's hostname stays
        config["hostname"] = hostname
    for mount in config["mounts"]:
        name = mount["destination"].removeprefix("/etc/")
        if mount["destination"].startswith("/etc/") and name in ETC_FILES:
            mount["source"] = str(target_bundle / name)


def port_bindings(spec: Spec) -> dict[str, list[dict[str, str]]]:
    """HostConfig.PortBindings as docker records -p: "80/tcp": [{HostIp, HostPort}]."""
    if not spec.publish:
        return {}
    from pyengine.network.portspec import ANY_IP, parse_publish

    out: dict[str, list[dict[str, str]]] = {}
    for b in parse_publish(spec.publish):
        host_port = str(b.host_port) if b.host_port else ""
        if b.host_port_end:
            host_port += f"-{b.host_port_end}"
        out.setdefault(b.key, []).append({"HostIp": "" if b.host_ip == ANY_IP else b.host_ip,
                                          "HostPort": host_port})
    return out


def endpoint_documents(c: Container, settings: NetworkSettings | None) -> dict[str, Any]:
    """docker's NetworkSettings.Networks of `c` (inspect's, and the list's): addresses while
    running, and what was asked at create or connect (IPAMConfig, Links, DriverOpts; the
    MacAddress asked, before the container runs)."""
    networks: dict[str, Any] = {}
    for name, view in (settings.networks if settings is not None else {}).items():
        asked = view.config
        ipam: dict[str, Any] = {}  # docker's omitempty fields
        if asked is not None and asked.ip:
            ipam["IPv4Address"] = asked.ip
        if asked is not None and asked.ip6:
            ipam["IPv6Address"] = asked.ip6
        if asked is not None and asked.link_local:
            ipam["LinkLocalIPs"] = list(asked.link_local)
        links = list(asked.links) if asked is not None and name != "bridge" else []
        networks[name] = {
            "IPAMConfig": ipam or None, "Links": links or None,
            "Aliases": list(view.aliases) or None, "NetworkID": view.network_id,
            "EndpointID": view.endpoint_id, "Gateway": view.gateway, "IPAddress": view.ip,
            "IPPrefixLen": view.prefix_len, "IPv6Gateway": view.gateway6,
            "GlobalIPv6Address": view.ip6, "GlobalIPv6PrefixLen": view.prefix6,
            "MacAddress": view.mac,
            "DriverOpts": dict(asked.driver_opts) if asked is not None and asked.driver_opts
            else None}
    return networks


def inspect_document(c: Container, settings: NetworkSettings | None, etc: Path
                     ) -> dict[str, Any]:
    """docker 20.10's NetworkSettings of `c` (from the domain's settings), and HostConfig's
    and Config's network fields."""
    spec = c.spec
    running = c.state.status == RUNNING
    ports: dict[str, list[dict[str, str]] | None] = {}
    if running:
        for key in c.config.get("exposed") or ():
            ports[key] = None
        for m in (settings.ports if settings is not None else []):
            entries = ports.get(f"{m.container_port}/{m.proto}") or []
            entries.append({"HostIp": m.host_ip, "HostPort": str(m.host_port)})
            ports[f"{m.container_port}/{m.proto}"] = entries
    networks = endpoint_documents(c, settings)
    default = networks.get("bridge") or {}
    sandbox = settings.sandbox_key if settings is not None else ""
    document = {
        "Bridge": "", "SandboxID": c.id if sandbox else "", "HairpinMode": False,
        "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0, "Ports": ports,
        "SandboxKey": sandbox, "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
        "EndpointID": default.get("EndpointID", ""), "Gateway": default.get("Gateway", ""),
        "GlobalIPv6Address": default.get("GlobalIPv6Address", ""),
        "GlobalIPv6PrefixLen": default.get("GlobalIPv6PrefixLen", 0),
        "IPAddress": default.get("IPAddress", ""), "IPPrefixLen": default.get("IPPrefixLen", 0),
        "IPv6Gateway": default.get("IPv6Gateway", ""),
        "MacAddress": default.get("MacAddress", ""), "Networks": networks,
    }
    return {
        "NetworkSettings": document,
        "HostConfig": {
            "NetworkMode": spec.network or "default", "PortBindings": port_bindings(spec),
            "PublishAllPorts": spec.publish_all, "Links": _links_of(c),
            "Dns": list(spec.dns), "DnsOptions": list(spec.dns_options),
            "DnsSearch": list(spec.dns_search), "ExtraHosts": list(spec.add_hosts) or None,
        },
        "Config": {
            **({"ExposedPorts": {key: {} for key in c.config.get("exposed") or ()}}
               if c.config.get("exposed") else {}),
            **({"MacAddress": spec.mac_address} if spec.mac_address else {}),
        },
        "ResolvConfPath": str(etc / "resolv.conf"), "HostnamePath": str(etc / "hostname"),
        "HostsPath": str(etc / "hosts"),
    }


def _links_of(c: Container) -> list[str] | None:
    """docker's HostConfig.Links: "/target:/container/alias"."""
    return None if not c.spec.links else [
        f"/{name}:/{c.name}/{alias}" for name, alias in map(split_link, c.spec.links)]
