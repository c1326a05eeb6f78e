"""VolumesService servicer: translates messages to VolumeService calls and back (each call
blocks, so it runs in the worker pool)."""

from __future__ import annotations

import json

import grpc.aio

from pyengine.api import volumes_pb2, volumes_pb2_grpc
from pyengine.services.errors import Context, unary
from pyengine.services.workers import Workers
from pyengine.volumes.model import Volume
from pyengine.volumes.service import VolumeService


class VolumesServicer(volumes_pb2_grpc.VolumesServiceServicer):
    def __init__(self, service: VolumeService, workers: Workers) -> None:
        self.service = service
        self.workers = workers

    def _message(self, v: Volume) -> volumes_pb2.Volume:
        return volumes_pb2.Volume(
            name=v.name, driver=v.driver, mountpoint=self.service.mountpoint(v.name),
            created_at=v.created_at, labels=v.labels, options=v.options, scope="local")

    @unary
    async def Create(self, request: volumes_pb2.CreateVolumeRequest,
                     context: Context) -> volumes_pb2.CreateVolumeResponse:
        v = await self.workers.run(self.service.create, request.name, request.driver,
                                   dict(request.options), dict(request.labels))
        return volumes_pb2.CreateVolumeResponse(volume=self._message(v))

    @unary
    async def List(self, request: volumes_pb2.ListVolumesRequest,
                   context: Context) -> volumes_pb2.ListVolumesResponse:
        found = await self.workers.run(self.service.list, list(request.filters))
        return volumes_pb2.ListVolumesResponse(volumes=[self._message(v) for v in found])

    @unary
    async def Inspect(self, request: volumes_pb2.InspectVolumeRequest,
                      context: Context) -> volumes_pb2.InspectVolumeResponse:
        doc = await self.workers.run(self.service.inspect, request.name)
        return volumes_pb2.InspectVolumeResponse(json=json.dumps(doc))

    @unary
    async def Remove(self, request: volumes_pb2.RemoveVolumeRequest,
                     context: Context) -> volumes_pb2.RemoveVolumeResponse:
        await self.workers.run(self.service.remove, request.name, request.force)
        return volumes_pb2.RemoveVolumeResponse()

    @unary
    async def Prune(self, request: volumes_pb2.PruneVolumesRequest,
                    context: Context) -> volumes_pb2.PruneVolumesResponse:
        gone, freed = await self.workers.run(self.service.prune, list(request.filters))
        return volumes_pb2.PruneVolumesResponse(deleted=gone, space_reclaimed=freed)


def add_to_server(server: grpc.aio.Server, service: VolumeService, workers: Workers) -> None:
    volumes_pb2_grpc.add_VolumesServiceServicer_to_server(VolumesServicer(service, workers),
                                                          server)
