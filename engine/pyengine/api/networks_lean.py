"""Lean message classes of pyengine/v1/networks.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
networks_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean


class CreateNetworkRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateNetworkRequest"
    __slots__ = ('name', 'driver', 'subnet', 'gateway', 'ip_range', 'internal', 'labels', 'options', 'ipv6', 'subnet6', 'gateway6', 'ip_range6', 'aux_addresses', 'aux_addresses6', 'ipam_options')
    name: str
    driver: str
    subnet: str
    gateway: str
    ip_range: str
    internal: bool
    labels: dict[str, str]
    options: dict[str, str]
    ipv6: bool
    subnet6: str
    gateway6: str
    ip_range6: str
    aux_addresses: dict[str, str]
    aux_addresses6: dict[str, str]
    ipam_options: dict[str, str]


class CreateNetworkResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateNetworkResponse"
    __slots__ = ('id', 'warning')
    id: str
    warning: str


class ListNetworksRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ListNetworksRequest"
    __slots__ = ('filters',)
    filters: list[str]


class NetworkSummary(_lean.Message):
    FULL_NAME = "pyengine.v1.NetworkSummary"
    __slots__ = ('id', 'name', 'driver', 'scope', 'internal', 'ipv6', 'created', 'labels')
    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    ipv6: bool
    created: str
    labels: dict[str, str]


class ListNetworksResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ListNetworksResponse"
    __slots__ = ('networks',)
    networks: list[NetworkSummary]


class InspectNetworkRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectNetworkRequest"
    __slots__ = ('id',)
    id: str


class InspectNetworkResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectNetworkResponse"
    __slots__ = ('json',)
    json: str


class RemoveNetworkRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveNetworkRequest"
    __slots__ = ('id',)
    id: str


class RemoveNetworkResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveNetworkResponse"
    __slots__ = ()


class PruneNetworksRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneNetworksRequest"
    __slots__ = ('filters',)
    filters: list[str]


class PruneNetworksResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneNetworksResponse"
    __slots__ = ('deleted',)
    deleted: list[str]


class ConnectNetworkRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ConnectNetworkRequest"
    __slots__ = ('network', 'container', 'ip', 'aliases', 'links', 'ip6', 'link_local_ips', 'driver_opts')
    network: str
    container: str
    ip: str
    aliases: list[str]
    links: list[str]
    ip6: str
    link_local_ips: list[str]
    driver_opts: dict[str, str]


class ConnectNetworkResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ConnectNetworkResponse"
    __slots__ = ()


class DisconnectNetworkRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.DisconnectNetworkRequest"
    __slots__ = ('network', 'container', 'force')
    network: str
    container: str
    force: bool


class DisconnectNetworkResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.DisconnectNetworkResponse"
    __slots__ = ()


class NetworksService(_lean.Service):
    FULL_NAME = "pyengine.v1.NetworksService"
    METHODS = {
        'Create': ('unary_unary', CreateNetworkRequest, CreateNetworkResponse),
        'List': ('unary_unary', ListNetworksRequest, ListNetworksResponse),
        'Inspect': ('unary_unary', InspectNetworkRequest, InspectNetworkResponse),
        'Remove': ('unary_unary', RemoveNetworkRequest, RemoveNetworkResponse),
        'Prune': ('unary_unary', PruneNetworksRequest, PruneNetworksResponse),
        'Connect': ('unary_unary', ConnectNetworkRequest, ConnectNetworkResponse),
        'Disconnect': ('unary_unary', DisconnectNetworkRequest, DisconnectNetworkResponse),
    }


CreateNetworkRequest._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'driver', _lean.STRING, _lean.PLAIN, None),
    (3, 'subnet', _lean.STRING, _lean.PLAIN, None),
    (4, 'gateway', _lean.STRING, _lean.PLAIN, None),
    (5, 'ip_range', _lean.STRING, _lean.PLAIN, None),
    (6, 'internal', _lean.BOOL, _lean.PLAIN, None),
    (7, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (8, 'options', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (9, 'ipv6', _lean.BOOL, _lean.PLAIN, None),
    (10, 'subnet6', _lean.STRING, _lean.PLAIN, None),
    (11, 'gateway6', _lean.STRING, _lean.PLAIN, None),
    (12, 'ip_range6', _lean.STRING, _lean.PLAIN, None),
    (13, 'aux_addresses', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (14, 'aux_addresses6', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (15, 'ipam_options', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
)
CreateNetworkResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'warning', _lean.STRING, _lean.PLAIN, None),
)
ListNetworksRequest._fields = (
    (1, 'filters', _lean.STRING, _lean.REPEATED, None),
)
NetworkSummary._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'name', _lean.STRING, _lean.PLAIN, None),
    (3, 'driver', _lean.STRING, _lean.PLAIN, None),
    (4, 'scope', _lean.STRING, _lean.PLAIN, None),
    (5, 'internal', _lean.BOOL, _lean.PLAIN, None),
    (6, 'ipv6', _lean.BOOL, _lean.PLAIN, None),
    (7, 'created', _lean.STRING, _lean.PLAIN, None),
    (8, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
)
ListNetworksResponse._fields = (
    (1, 'networks', _lean.MESSAGE, _lean.REPEATED, NetworkSummary),
)
InspectNetworkRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
InspectNetworkResponse._fields = (
    (1, 'json', _lean.STRING, _lean.PLAIN, None),
)
RemoveNetworkRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
RemoveNetworkResponse._fields = ()
PruneNetworksRequest._fields = (
    (1, 'filters', _lean.STRING, _lean.REPEATED, None),
)
PruneNetworksResponse._fields = (
    (1, 'deleted', _lean.STRING, _lean.REPEATED, None),
)
ConnectNetworkRequest._fields = (
    (1, 'network', _lean.STRING, _lean.PLAIN, None),
    (2, 'container', _lean.STRING, _lean.PLAIN, None),
    (3, 'ip', _lean.STRING, _lean.PLAIN, None),
    (4, 'aliases', _lean.STRING, _lean.REPEATED, None),
    (5, 'links', _lean.STRING, _lean.REPEATED, None),
    (6, 'ip6', _lean.STRING, _lean.PLAIN, None),
    (7, 'link_local_ips', _lean.STRING, _lean.REPEATED, None),
    (8, 'driver_opts', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
)
ConnectNetworkResponse._fields = ()
DisconnectNetworkRequest._fields = (
    (1, 'network', _lean.STRING, _lean.PLAIN, None),
    (2, 'container', _lean.STRING, _lean.PLAIN, None),
    (3, 'force', _lean.BOOL, _lean.PLAIN, None),
)
DisconnectNetworkResponse._fields = ()
