"""NetworksService servicer: messages <-> NetworkService (management) and the containers
domain's networking (connect, disconnect)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import grpc.aio

from pyengine.api import networks_pb2, networks_pb2_grpc
from pyengine.containers.service import ContainerService
from pyengine.services.errors import Context, unary
from pyengine.services.workers import Workers

if TYPE_CHECKING:
    from pyengine.network.model import Network
    from pyengine.network.service import NetworkService


def summary(n: Network) -> networks_pb2.NetworkSummary:
    return networks_pb2.NetworkSummary(
        id=n.id, name=n.name, driver=n.driver, scope="local", internal=n.internal,
        ipv6=n.ipv6, created=n.created, labels=dict(n.labels))


class NetworksServicer(networks_pb2_grpc.NetworksServiceServicer):
    def __init__(self, networks: NetworkService, containers: ContainerService,
                 workers: Workers) -> None:
        self.networks = networks
        self.containers = containers
        self.workers = workers

    @unary
    async def Create(self, request: networks_pb2.CreateNetworkRequest,
                     context: Context) -> networks_pb2.CreateNetworkResponse:
        from pyengine.network.model import PoolRequest

        pool6 = PoolRequest(request.subnet6, request.gateway6, request.ip_range6,
                            dict(request.aux_addresses6)) if request.subnet6 else None
        n = await self.workers.run(
            self.networks.create, request.name, driver=request.driver or "bridge",
            subnet=request.subnet, gateway=request.gateway, ip_range=request.ip_range,
            internal=request.internal, labels=dict(request.labels),
            options=dict(request.options), ipv6=request.ipv6, pool6=pool6,
            aux=dict(request.aux_addresses), ipam_options=dict(request.ipam_options))
        return networks_pb2.CreateNetworkResponse(id=n.id)

    @unary
    async def List(self, request: networks_pb2.ListNetworksRequest,
                   context: Context) -> networks_pb2.ListNetworksResponse:
        found = await self.workers.run(self.networks.list, list(request.filters))
        return networks_pb2.ListNetworksResponse(networks=[summary(n) for n in found])

    @unary
    async def Inspect(self, request: networks_pb2.InspectNetworkRequest,
                      context: Context) -> networks_pb2.InspectNetworkResponse:
        document = await self.workers.run(self.networks.inspect, request.id)
        return networks_pb2.InspectNetworkResponse(json=json.dumps(document))

    @unary
    async def Remove(self, request: networks_pb2.RemoveNetworkRequest,
                     context: Context) -> networks_pb2.RemoveNetworkResponse:
        await self.workers.run(self.networks.remove, request.id)
        return networks_pb2.RemoveNetworkResponse()

    @unary
    async def Prune(self, request: networks_pb2.PruneNetworksRequest,
                    context: Context) -> networks_pb2.PruneNetworksResponse:
        deleted = await self.workers.run(self.networks.prune, list(request.filters))
        return networks_pb2.PruneNetworksResponse(deleted=deleted)

    @unary
    async def Connect(self, request: networks_pb2.ConnectNetworkRequest,
                      context: Context) -> networks_pb2.ConnectNetworkResponse:
        await self.containers.networking.connect(
            request.network, request.container, ip=request.ip,
            aliases=list(request.aliases), links=list(request.links), ip6=request.ip6,
            link_local=list(request.link_local_ips), driver_opts=dict(request.driver_opts))
        return networks_pb2.ConnectNetworkResponse()

    @unary
    async def Disconnect(self, request: networks_pb2.DisconnectNetworkRequest,
                         context: Context) -> networks_pb2.DisconnectNetworkResponse:
        await self.containers.networking.disconnect(request.network, request.container,
                                                    force=request.force)
        return networks_pb2.DisconnectNetworkResponse()


def add_to_server(server: grpc.aio.Server, networks: NetworkService,
                  containers: ContainerService, workers: Workers) -> None:
    networks_pb2_grpc.add_NetworksServiceServicer_to_server(
        NetworksServicer(networks, containers, workers), server)
