"""/networks: list, inspect, create, remove, connect, disconnect, prune over NetworkService
(management, in the worker pool) and the containers domain's networking (connect, disconnect:
coroutines on the loop), as the gRPC edge (services/networks.py) calls them. New here: docker's
create and connect bodies read into the domain's arguments.

Where dockerd 20.10 differs (checked against a private one): a name is unique here whatever
CheckDuplicate says (dockerd without it makes a second network of that name with a Warning);
Attachable is accepted and not kept (inspect says false); a bad filters JSON or type value, a
blank name, is a 400 (dockerd: 500)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.body import json_body, mapping
from pyengine.dockerapi.query import filter_items
from pyengine.dockerapi.routes import Routes, api_version
from pyengine.dockerapi.versioning import at_least
from pyengine.errors import InvalidArgument, NotFound
from pyengine.network.model import PoolRequest

if TYPE_CHECKING:
    from pyengine.dockerapi.context import ApiContext
    from pyengine.network.service import NetworkService


@dataclass
class NetworkCreate:
    """docker's NetworkCreateRequest as NetworkService.create takes it."""

    name: str
    driver: str = "bridge"
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    ipv6: bool = False
    pool6: PoolRequest | None = None
    aux: dict[str, str] = field(default_factory=dict)
    ipam_options: dict[str, str] | None = None


@dataclass
class EndpointConfig:
    """A connect's EndpointConfig as the containers domain's connect takes it."""

    ip: str = ""
    aliases: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ip6: str = ""
    link_local: list[str] = field(default_factory=list)
    mac: str = ""
    driver_opts: dict[str, str] = field(default_factory=dict)


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"invalid {key}: not an object")
    return value


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid {key}: not a list of strings")
    return value


def _pools(ipam: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """IPAM.Config: at most one IPv4 and one IPv6 pool (a pool without a subnet is an IPv4
    one: the domain then asks for its subnet)."""
    pools = ipam.get("Config") or []
    if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
        raise InvalidArgument("invalid IPAM.Config: not a list of objects")
    v4 = [p for p in pools if ":" not in str(p.get("Subnet") or "")]
    v6 = [p for p in pools if ":" in str(p.get("Subnet") or "")]
    if len(v4) > 1 or len(v6) > 1:
        raise InvalidArgument("IPAM.Config: one pool per address family (IPv4, IPv6) is "
                              "supported by this daemon")
    return (v4[0] if v4 else {}), (v6[0] if v6 else {})


def network_create(body: dict[str, Any]) -> NetworkCreate:
    """What this daemon has not (swarm's ingress and config-only networks, IPAM plugins,
    more than one pool per family) is refused with a 400 naming it, never ignored."""
    if body.get("Ingress"):
        raise InvalidArgument("Ingress: ingress networks need swarm mode, which this daemon "
                              "does not support")
    if body.get("ConfigOnly") or _object(body, "ConfigFrom").get("Network"):
        raise InvalidArgument("ConfigOnly/ConfigFrom: configuration-only networks are not "
                              "supported by this daemon")
    if body.get("Scope") not in (None, "", "local"):
        raise InvalidArgument(f"Scope {body['Scope']}: only local networks are supported")
    ipam = _object(body, "IPAM")
    ipam_driver = ipam.get("Driver") or "default"
    if ipam_driver != "default":
        raise NotFound(f'plugin "{ipam_driver}" not found')
    pool, pool6 = _pools(ipam)
    return NetworkCreate(
        name=str(body.get("Name") or ""), driver=str(body.get("Driver") or "bridge"),
        subnet=str(pool.get("Subnet") or ""), gateway=str(pool.get("Gateway") or ""),
        ip_range=str(pool.get("IPRange") or ""), internal=bool(body.get("Internal")),
        labels=mapping(body, "Labels"), options=mapping(body, "Options"),
        ipv6=bool(body.get("EnableIPv6")),
        pool6=PoolRequest(str(pool6.get("Subnet")), str(pool6.get("Gateway") or ""),
                          str(pool6.get("IPRange") or ""),
                          mapping(pool6, "AuxiliaryAddresses")) if pool6 else None,
        aux=mapping(pool, "AuxiliaryAddresses"),
        ipam_options=mapping(ipam, "Options") if ipam.get("Options") is not None else None)


def endpoint_config(body: dict[str, Any]) -> EndpointConfig:
    config = _object(body, "EndpointConfig")
    addresses = _object(config, "IPAMConfig")
    return EndpointConfig(ip=str(addresses.get("IPv4Address") or ""),
                          aliases=_strings(config, "Aliases"), links=_strings(config, "Links"),
                          ip6=str(addresses.get("IPv6Address") or ""),
                          link_local=_strings(addresses, "LinkLocalIPs"),
                          mac=str(config.get("MacAddress") or ""),
                          driver_opts=mapping(config, "DriverOpts"))


def _container(body: dict[str, Any]) -> str:
    ref = body.get("Container")
    if not isinstance(ref, str) or not ref:
        raise InvalidArgument(f'invalid name or ID supplied: "{ref or ""}"')  # docker's
    return ref


def _listing(networks: NetworkService, wanted: list[str], detailed: bool) -> list[dict[str, Any]]:
    return [networks.document(n, detailed) for n in networks.list(wanted)]


def register(routes: Routes, api: ApiContext) -> None:
    """(the domains are looked up per request: routes are registered before, or without, an
    engine)"""

    async def list_networks(request: web.Request) -> web.StreamResponse:
        detailed = not at_least(api_version(request), "1.28")  # docker's: containers before
        found = await api.workers.run(_listing, api.engine.networks, filter_items(request),
                                      detailed)
        return json_response(found)

    async def inspect(request: web.Request) -> web.StreamResponse:
        ref = request.match_info["id"]
        if request.query.get("scope", "local") not in ("", "local"):
            raise NotFound(f"network {ref} not found")  # no swarm or global networks here
        return json_response(await api.workers.run(api.engine.networks.inspect, ref))

    async def create(request: web.Request) -> web.StreamResponse:
        spec = network_create(await json_body(request))
        n = await api.workers.run(
            api.engine.networks.create, spec.name, driver=spec.driver, subnet=spec.subnet,
            gateway=spec.gateway, ip_range=spec.ip_range, internal=spec.internal,
            labels=spec.labels, options=spec.options, ipv6=spec.ipv6, pool6=spec.pool6,
            aux=spec.aux, ipam_options=spec.ipam_options)
        return json_response({"Id": n.id, "Warning": ""}, 201)

    async def remove(request: web.Request) -> web.StreamResponse:
        await api.workers.run(api.engine.networks.remove, request.match_info["id"])
        return web.Response(status=204)

    async def connect(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        config = endpoint_config(body)
        await api.engine.containers.networking.connect(
            request.match_info["id"], _container(body), ip=config.ip, aliases=config.aliases,
            links=config.links, ip6=config.ip6, link_local=config.link_local, mac=config.mac,
            driver_opts=config.driver_opts)
        return web.Response(status=200)

    async def disconnect(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        await api.engine.containers.networking.disconnect(
            request.match_info["id"], _container(body), force=bool(body.get("Force")))
        return web.Response(status=200)

    async def prune(request: web.Request) -> web.StreamResponse:
        deleted = await api.workers.run(api.engine.networks.prune, filter_items(request))
        return json_response({"NetworksDeleted": deleted or None})  # docker's null if none

    routes.get("/networks", list_networks)
    routes.get("/networks/", list_networks)
    routes.post("/networks/create", create)
    routes.post("/networks/prune", prune)
    routes.post("/networks/{id}/connect", connect)
    routes.post("/networks/{id}/disconnect", disconnect)
    routes.get("/networks/{id:.+}", inspect)  # a name may have a slash (docker's router)
    routes.delete("/networks/{id:.+}", remove)
