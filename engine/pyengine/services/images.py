"""ImagesService servicer: translates messages to ImageService calls and back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc

from pyengine.api import common_pb2, images_pb2, images_pb2_grpc
from pyengine.errors import InvalidArgument
from pyengine.images import archive_in, archive_out, importer
from pyengine.images.inspect import parse_time
from pyengine.images.service import ImageService, RegistryAuth
from pyengine.services.errors import streaming, unary
from pyengine.services.jobs import Jobs
from pyengine.services.streams import ChunkPipe, spool

MAX_UPLOAD = 64 << 30


def auth_from(msg: common_pb2.RegistryAuth) -> RegistryAuth | None:
    if not (msg.username or msg.password or msg.identity_token):
        return None
    return RegistryAuth(msg.server_address, msg.username, msg.password, msg.identity_token)


def platform_text(msg: common_pb2.Platform) -> str:
    return "/".join(p for p in (msg.os, msg.architecture, msg.variant) if p)


def _items(items) -> list[images_pb2.RemoveItem]:  # type: ignore[no-untyped-def]
    return [images_pb2.RemoveItem(untagged=i.untagged, deleted=i.deleted) for i in items]


class ImagesServicer(images_pb2_grpc.ImagesServiceServicer):
    def __init__(self, service: ImageService, jobs: Jobs) -> None:
        self.service = service
        self.jobs = jobs

    def _progress(self, context, job) -> Iterator[common_pb2.Progress]:  # type: ignore[no-untyped-def]
        channel = self.jobs.open(context)
        try:
            for report in channel.run(job):
                yield common_pb2.Progress(
                    id=report.id, status=report.status, current=report.current,
                    total=report.total, result=report.result,
                )
        finally:
            self.jobs.close(channel)

    @streaming
    def Pull(self, request, context):  # type: ignore[no-untyped-def]
        if not request.reference:
            raise InvalidArgument("pull: an image reference is required")

        def job(channel) -> None:  # type: ignore[no-untyped-def]
            name = self.service.pull(
                request.reference,
                channel,
                platform=platform_text(request.platform),
                auth=auth_from(request.auth),
            )
            channel.finish(name)

        yield from self._progress(context, job)

    @streaming
    def Push(self, request, context):  # type: ignore[no-untyped-def]
        def job(channel) -> None:  # type: ignore[no-untyped-def]
            digest = self.service.push(request.reference, channel, auth=auth_from(request.auth))
            channel.finish(digest)

        yield from self._progress(context, job)

    @unary
    def List(self, request, context):  # type: ignore[no-untyped-def]
        dangling = request.dangling if request.HasField("dangling") else None
        rows = self.service.rows(dangling=dangling, repo_filter=request.reference_filter)
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
    def Inspect(self, request, context):  # type: ignore[no-untyped-def]
        doc = self.service.inspect(request.reference)
        return images_pb2.InspectImageResponse(json=json.dumps(doc))

    @unary
    def History(self, request, context):  # type: ignore[no-untyped-def]
        entries = [images_pb2.HistoryEntry(**e) for e in self.service.history(request.reference)]
        return images_pb2.ImageHistoryResponse(entries=entries)

    @unary
    def Tag(self, request, context):  # type: ignore[no-untyped-def]
        return images_pb2.TagImageResponse(name=self.service.tag(request.source, request.target))

    @unary
    def Remove(self, request, context):  # type: ignore[no-untyped-def]
        items = self.service.remove(request.reference, force=request.force)
        return images_pb2.RemoveImageResponse(items=_items(items))

    @streaming
    def Save(self, request, context):  # type: ignore[no-untyped-def]
        refs = list(request.references)
        fmt = request.format or "docker"
        for ref in refs:  # fail before streaming starts when an image is unknown
            self.service.resolve_local(ref)
        if fmt not in archive_out.FORMATS:
            raise InvalidArgument(f"save: unknown format {fmt!r}: use docker or oci")
        pipe = ChunkPipe()
        context.add_callback(pipe.cancelled.set)
        for chunk in pipe.run(lambda out: archive_out.save(self.service, refs, fmt, out)):
            yield common_pb2.DataChunk(data=chunk)

    @unary
    def Load(self, request_iterator, context):  # type: ignore[no-untyped-def]
        chunks = (m.data for m in request_iterator if m.WhichOneof("part") == "data")
        path = spool(chunks, self.service.tmp_dir, MAX_UPLOAD)
        channel = self.jobs.open(context)
        try:
            result = archive_in.load(self.service, path, _Quiet(channel))
        finally:
            self.jobs.close(channel)
            path.unlink(missing_ok=True)
        return images_pb2.LoadImagesResponse(loaded=result.loaded, image_ids=result.image_ids)

    @unary
    def Import(self, request_iterator, context):  # type: ignore[no-untyped-def]
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument("import: the first message must carry the header")
        header = first.header
        chunks = (m.data for m in request_iterator if m.WhichOneof("part") == "data")
        path = spool(chunks, self.service.tmp_dir, MAX_UPLOAD)
        opts = importer.ImportOptions(
            reference=header.reference,
            changes=tuple(header.changes),
            message=header.message,
            os=header.platform.os,
            architecture=header.platform.architecture,
            variant=header.platform.variant,
        )
        channel = self.jobs.open(context)
        try:
            image_id, name = importer.import_image(self.service, path, opts, _Quiet(channel))
        finally:
            self.jobs.close(channel)
            path.unlink(missing_ok=True)
        return images_pb2.ImportImageResponse(id=image_id, name=name)

    @unary
    def Prune(self, request, context):  # type: ignore[no-untyped-def]
        items, freed = self.service.prune(all_images=request.all)
        return images_pb2.PruneImagesResponse(items=_items(items), space_reclaimed=freed)

    @unary
    def Search(self, request, context):  # type: ignore[no-untyped-def]
        names = self.service.search(
            request.term,
            registry=request.registry,
            limit=request.limit or 25,
            auth=auth_from(request.auth),
        )
        return images_pb2.SearchImagesResponse(
            results=[images_pb2.SearchResult(name=n) for n in names]
        )


class _Quiet:
    """A progress channel view that drops reports but keeps cancellation."""

    def __init__(self, channel) -> None:  # type: ignore[no-untyped-def]
        self._channel = channel

    def report(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        self._channel.check()

    def check(self) -> None:
        self._channel.check()


def add_to_server(server: grpc.Server, service: ImageService, jobs: Jobs) -> None:
    images_pb2_grpc.add_ImagesServiceServicer_to_server(ImagesServicer(service, jobs), server)
