"""SystemService servicer: ping, version, info, disk usage, registry login, events."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import AsyncIterator

import grpc.aio

from pyengine import __version__
from pyengine.api import API_PACKAGE, API_VERSION, system_pb2, system_pb2_grpc
from pyengine.config import DaemonConfig
from pyengine.events import EventBus, parse_filters
from pyengine.images.inspect import parse_time
from pyengine.images.service import ImageService, RegistryAuth
from pyengine.services.errors import Context, streaming, unary
from pyengine.services.workers import Workers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyengine.build.service import BuilderService
    from pyengine.volumes.service import VolumeService


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _arch() -> str:
    from pyengine.registry.descriptor import host

    return host().architecture


class SystemServicer(system_pb2_grpc.SystemServiceServicer):
    def __init__(
        self, config: DaemonConfig, service: ImageService, events: EventBus, workers: Workers,
        volumes: VolumeService | None = None, builds: BuilderService | None = None,
    ) -> None:
        self.volumes = volumes
        self.builds = builds
        self.config = config
        self.service = service
        self.events = events
        self.workers = workers

    @unary
    async def Ping(
        self, request: system_pb2.PingRequest, context: Context
    ) -> system_pb2.PingResponse:
        return system_pb2.PingResponse(api_version=API_VERSION)

    @unary
    async def Version(
        self, request: system_pb2.VersionRequest, context: Context
    ) -> system_pb2.VersionResponse:
        return system_pb2.VersionResponse(
            version=__version__,
            api_version=API_PACKAGE,
            os="linux",
            arch=_arch(),
            kernel_version=platform.release(),
            python_version=platform.python_version(),
        )

    @unary
    async def Info(
        self, request: system_pb2.InfoRequest, context: Context
    ) -> system_pb2.InfoResponse:
        cfg = self.config
        return system_pb2.InfoResponse(
            data_root=str(cfg.data_root),
            exec_root=str(cfg.exec_root),
            storage_driver=cfg.storage_driver,
            default_runtime=cfg.default_runtime,
            insecure_registries=cfg.insecure_registries,
            registry_mirrors=cfg.registry_mirrors,
            images=await self.workers.run(self.service.image_count),
            version=__version__,
            kernel_version=platform.release(),
            os="linux",
            architecture=_arch(),
            ncpu=os.cpu_count() or 1,
            mem_total=_mem_total(),
            name=socket.gethostname(),
            pid=os.getpid(),
            log_level=cfg.log_level,
        )

    @unary
    async def DiskUsage(
        self, request: system_pb2.DiskUsageRequest, context: Context
    ) -> system_pb2.DiskUsageResponse:
        usage = await self.workers.run_long(self.service.disk_usage)
        images = [
            system_pb2.ImageUsage(
                id=i.id, repo_tags=i.repo_tags, created=parse_time(i.created),
                size=i.size, shared_size=i.shared_size, containers=0,
            )
            for i in usage.images
        ]
        volumes = await self.workers.run_long(self.volumes.disk_usage) \
            if self.volumes is not None else []
        cache = await self.workers.run_long(self.builds.usage) if self.builds is not None \
            else []
        from pyengine.api import build_pb2

        return system_pb2.DiskUsageResponse(
            build_cache=[build_pb2.BuildCacheRecord(
                id=r.id, kind=r.kind, description=r.description, size=r.size,
                created_at=r.created_at, last_used_at=r.last_used_at,
                usage_count=r.usage_count, in_use=r.in_use, shared=r.shared) for r in cache],
            volumes=[system_pb2.VolumeUsage(name=v.name, links=v.links, size=v.size)
                     for v in volumes],
            images=images,
            layers_size=usage.layers_size,
            content_size=usage.content_size,
            reclaimable=usage.reclaimable,
            unreferenced_blobs=usage.unreferenced_blobs,
            unreferenced_snapshots=usage.unreferenced_snapshots,
        )

    @unary
    async def Login(
        self, request: system_pb2.LoginRequest, context: Context
    ) -> system_pb2.LoginResponse:
        auth = request.auth
        token = await self.workers.run_long(self.service.login, RegistryAuth(
            auth.server_address, auth.username, auth.password, auth.identity_token
        ))
        return system_pb2.LoginResponse(status="Login Succeeded", identity_token=token)


    @streaming
    async def Events(
        self, request: system_pb2.EventsRequest, context: Context
    ) -> AsyncIterator[system_pb2.Event]:
        subscription = self.events.subscribe(parse_filters(list(request.filters)),
                                             since=request.since, until=request.until)
        try:
            # the headers tell the client it is subscribed: events from now on reach it
            await context.send_initial_metadata(())
            async for event in subscription:
                yield system_pb2.Event(
                    type=event.type, action=event.action, id=event.id,
                    attributes=event.attributes, time_nano=event.time_nano,
                )
        finally:
            subscription.close()


def add_to_server(
    server: grpc.aio.Server, config: DaemonConfig, service: ImageService, events: EventBus,
    workers: Workers, volumes: VolumeService | None = None,
    builds: BuilderService | None = None,
) -> None:
    system_pb2_grpc.add_SystemServiceServicer_to_server(
        SystemServicer(config, service, events, workers, volumes, builds), server
    )
