"""ImagesService servicer: translates messages to ImageService calls and back.

Handlers run on the event loop; every ImageService call blocks (SQLite, disk, network), so it
runs in the worker pool (`self.workers`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable

import grpc.aio

from pyengine.api import common_pb2, images_pb2, images_pb2_grpc
from pyengine.errors import InvalidArgument
from pyengine.images import archive_out, importer
from pyengine.images.inspect import parse_time
from pyengine.images.service import ImageService, RegistryAuth, RemoveItem
from pyengine.progress import ProgressChannel
from pyengine.services.errors import Context, streaming, unary
from pyengine.services.jobs import Jobs
from pyengine.services.streams import ChunkPipe, spool
from pyengine.services.workers import Workers

MAX_UPLOAD = 64 << 30


def auth_from(msg: common_pb2.RegistryAuth) -> RegistryAuth | None:
    if not (msg.username or msg.password or msg.identity_token):
        return None
    return RegistryAuth(msg.server_address, msg.username, msg.password, msg.identity_token)


def platform_text(msg: common_pb2.Platform) -> str:
    return "/".join(p for p in (msg.os, msg.architecture, msg.variant) if p)


def _items(items: Iterable[RemoveItem]) -> list[images_pb2.RemoveItem]:
    return [images_pb2.RemoveItem(untagged=i.untagged, deleted=i.deleted) for i in items]


class ImagesServicer(images_pb2_grpc.ImagesServiceServicer):
    def __init__(self, service: ImageService, jobs: Jobs, workers: Workers) -> None:
        self.service = service
        self.jobs = jobs
        self.workers = workers

    async def _progress(
        self, job: Callable[[ProgressChannel], None]
    ) -> AsyncIterator[common_pb2.Progress]:
        async for report in self.jobs.stream(self.workers, job):
            yield common_pb2.Progress(
                id=report.id, status=report.status, current=report.current,
                total=report.total, result=report.result,
            )

    @streaming
    async def Pull(
        self, request: images_pb2.PullRequest, context: Context
    ) -> AsyncIterator[common_pb2.Progress]:
        if not request.reference:
            raise InvalidArgument("pull: an image reference is required")

        def job(channel: ProgressChannel) -> None:
            name = self.service.pull(
                request.reference,
                channel,
                platform=platform_text(request.platform),
                auth=auth_from(request.auth),
            )
            channel.finish(name)

        async for message in self._progress(job):
            yield message

    @streaming
    async def Push(
        self, request: images_pb2.PushRequest, context: Context
    ) -> AsyncIterator[common_pb2.Progress]:
        def job(channel: ProgressChannel) -> None:
            digest = self.service.push(request.reference, channel, auth=auth_from(request.auth))
            channel.finish(digest)

        async for message in self._progress(job):
            yield message

    @unary
    async def List(
        self, request: images_pb2.ListImagesRequest, context: Context
    ) -> images_pb2.ListImagesResponse:
        dangling = request.dangling if request.HasField("dangling") else None
        rows = await self.workers.run(
            self.service.rows, dangling=dangling, repo_filter=request.reference_filter
        )
        out = []
        for row in rows:
            image = row.image
            out.append(images_pb2.ImageSummary(
                id=image.id,
                repository=row.repository,
                tag=row.tag,
                digest=row.digest,
                created=parse_time(image.created),
                size=image.size,
                repo_tags=row.repo_tags,
                repo_digests=row.repo_digests,
                platform=common_pb2.Platform(
                    os=image.os, architecture=image.architecture, variant=image.variant
                ),
            ))
        return images_pb2.ListImagesResponse(images=out)

    @unary
    async def Inspect(
        self, request: images_pb2.InspectImageRequest, context: Context
    ) -> images_pb2.InspectImageResponse:
        doc = await self.workers.run(self.service.inspect, request.reference)
        return images_pb2.InspectImageResponse(json=json.dumps(doc))

    @unary
    async def History(
        self, request: images_pb2.ImageHistoryRequest, context: Context
    ) -> images_pb2.ImageHistoryResponse:
        entries = [
            images_pb2.HistoryEntry(
                id=row.id, created=row.created, created_by=row.created_by, size=row.size,
                comment=row.comment, tags=row.tags, empty_layer=row.empty_layer,
            )
            for row in await self.workers.run(self.service.history, request.reference)
        ]
        return images_pb2.ImageHistoryResponse(entries=entries)

    @unary
    async def Tag(
        self, request: images_pb2.TagImageRequest, context: Context
    ) -> images_pb2.TagImageResponse:
        name = await self.workers.run(self.service.tag, request.source, request.target)
        return images_pb2.TagImageResponse(name=name)

    @unary
    async def Remove(
        self, request: images_pb2.RemoveImageRequest, context: Context
    ) -> images_pb2.RemoveImageResponse:
        # long: removing collects garbage, which waits for transfers in flight
        items = await self.workers.run_long(self.service.remove, request.reference,
                                            force=request.force)
        return images_pb2.RemoveImageResponse(items=_items(items))

    @streaming
    async def Save(
        self, request: images_pb2.SaveImagesRequest, context: Context
    ) -> AsyncIterator[common_pb2.DataChunk]:
        refs = list(request.references)
        fmt = request.format or "docker"
        for ref in refs:  # fail before streaming starts when an image is unknown
            await self.workers.run(self.service.resolve_local, ref)
        if fmt not in archive_out.FORMATS:
            raise InvalidArgument(f"save: unknown format {fmt!r}: use docker or oci")
        pipe = ChunkPipe()
        async for chunk in pipe.run(self.workers, lambda out: self.service.save(refs, fmt, out)):
            yield common_pb2.DataChunk(data=chunk)

    @unary
    async def Load(
        self, request_iterator: AsyncIterator[images_pb2.LoadImagesRequest],
        context: Context,
    ) -> images_pb2.LoadImagesResponse:
        chunks = (m.data async for m in request_iterator if m.WhichOneof("part") == "data")
        path = await spool(chunks, self.service.tmp_dir, MAX_UPLOAD, self.workers)
        try:
            result = await self.jobs.quiet(
                self.workers, lambda quiet: self.service.load(path, quiet)
            )
        finally:
            path.unlink(missing_ok=True)
        return images_pb2.LoadImagesResponse(loaded=result.loaded, image_ids=result.image_ids)

    @unary
    async def Import(
        self, request_iterator: AsyncIterator[images_pb2.ImportImageRequest],
        context: Context,
    ) -> images_pb2.ImportImageResponse:
        first = await anext(request_iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument("import: the first message must carry the header")
        header = first.header
        chunks = (m.data async for m in request_iterator if m.WhichOneof("part") == "data")
        path = await spool(chunks, self.service.tmp_dir, MAX_UPLOAD, self.workers)
        opts = importer.ImportOptions(
            reference=header.reference,
            changes=tuple(header.changes),
            message=header.message,
            os=header.platform.os,
            architecture=header.platform.architecture,
            variant=header.platform.variant,
        )
        try:
            image_id, name = await self.jobs.quiet(
                self.workers, lambda quiet: self.service.import_tarball(path, opts, quiet)
            )
        finally:
            path.unlink(missing_ok=True)
        return images_pb2.ImportImageResponse(id=image_id, name=name)

    @unary
    async def Prune(
        self, request: images_pb2.PruneImagesRequest, context: Context
    ) -> images_pb2.PruneImagesResponse:
        items, freed = await self.workers.run_long(self.service.prune, all_images=request.all)
        return images_pb2.PruneImagesResponse(items=_items(items), space_reclaimed=freed)

    @unary
    async def Search(
        self, request: images_pb2.SearchImagesRequest, context: Context
    ) -> images_pb2.SearchImagesResponse:
        names = await self.workers.run_long(
            self.service.search,
            request.term,
            registry=request.registry,
            limit=request.limit or 25,
            auth=auth_from(request.auth),
        )
        return images_pb2.SearchImagesResponse(
            results=[images_pb2.SearchResult(name=n) for n in names]
        )


def add_to_server(
    server: grpc.aio.Server, service: ImageService, jobs: Jobs, workers: Workers
) -> None:
    images_pb2_grpc.add_ImagesServiceServicer_to_server(
        ImagesServicer(service, jobs, workers), server
    )
