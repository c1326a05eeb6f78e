"""BuildsService servicer: the first request carries the options, the rest the context's
chunks; the build runs as a task whose events are streamed as they come. A failure is sent as
a BuildFailure event, then as the error status; a client that goes away cancels the task,
which undoes everything (pyengine.build.stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc.aio

from pyengine.api import build_pb2, build_pb2_grpc
from pyengine.build.options import (
    BuildEventValue,
    BuildOptions,
    BuildResultValue,
    BuildWarning,
    PullProgress,
    StepDone,
    StepOutput,
    StepStarted,
)
from pyengine.build.service import BuilderService
from pyengine.build.stream import BuildFailed, run_build
from pyengine.errors import InvalidArgument
from pyengine.services.errors import Context, streaming, unary
from pyengine.services.workers import Workers


def options_from(msg: build_pb2.BuildOptions) -> BuildOptions:
    return BuildOptions(
        tags=tuple(msg.tags), dockerfile=msg.dockerfile or "Dockerfile",
        build_args=dict(msg.build_args), target=msg.target, no_cache=msg.no_cache,
        cache_from=tuple(msg.cache_from),
        pull=msg.pull, labels=dict(msg.labels), network=msg.network, quiet=msg.quiet,
        platform=msg.platform,
        dockerfile_content=msg.dockerfile_content if msg.dockerfile_content else None,
        secrets={s.id: s.data for s in msg.secrets}, extra_hosts=tuple(msg.extra_hosts),
        ignore_file=msg.ignore_file if msg.has_ignore_file else None)


def event_message(event: BuildEventValue) -> build_pb2.BuildEvent:
    if isinstance(event, StepStarted):
        return build_pb2.BuildEvent(step=build_pb2.BuildStep(
            index=event.index, total=event.total, stage=event.stage,
            stage_index=event.stage_index, stage_steps=event.stage_steps,
            instruction=event.instruction, container_id=event.container_id))
    if isinstance(event, StepDone):
        return build_pb2.BuildEvent(done=build_pb2.BuildStepDone(
            index=event.index, cached=event.cached, duration_ns=event.duration_ns,
            result_id=event.result_id))
    if isinstance(event, StepOutput):
        return build_pb2.BuildEvent(output=build_pb2.BuildOutput(
            index=event.index, stream=event.stream, data=event.data))
    if isinstance(event, BuildWarning):
        return build_pb2.BuildEvent(warning=event.text)
    if isinstance(event, PullProgress):
        from pyengine.api import common_pb2

        return build_pb2.BuildEvent(pull=common_pb2.Progress(
            id=event.id, status=event.status, current=event.current, total=event.total))
    raise TypeError(f"not a build event: {event!r}")


class BuildsServicer(build_pb2_grpc.BuildsServiceServicer):
    def __init__(self, service: BuilderService, workers: Workers) -> None:
        self.service = service
        self.workers = workers

    @streaming
    async def Build(self, request_iterator: AsyncIterator[build_pb2.BuildRequest],
                    context: Context) -> AsyncIterator[build_pb2.BuildEvent]:
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None or not first.HasField("options"):
            raise InvalidArgument("build: the first request must carry the options")
        options = options_from(first.options)

        async def chunks() -> AsyncIterator[bytes]:
            async for request in requests:
                if request.HasField("context"):
                    yield request.context

        async with aclosing(run_build(self.service, options, chunks())) as items:
            async for item in items:
                if isinstance(item, BuildFailed):
                    yield build_pb2.BuildEvent(failure=build_pb2.BuildFailure(
                        index=item.index, message=item.message, exit_code=item.exit_code))
                    raise item.error
                if isinstance(item, BuildResultValue):
                    yield build_pb2.BuildEvent(result=build_pb2.BuildResult(
                        image_id=item.image_id, tags=list(item.tags)))
                else:
                    yield event_message(item)

    @unary
    async def Prune(self, request: build_pb2.PruneBuildCacheRequest,
                    context: Context) -> build_pb2.PruneBuildCacheResponse:
        deleted, reclaimed = await self.workers.run(self.service.prune, request.all,
                                                    request.until, request.keep_storage)
        return build_pb2.PruneBuildCacheResponse(deleted=deleted, space_reclaimed=reclaimed)

    @unary
    async def Usage(self, request: build_pb2.BuildCacheUsageRequest,
                    context: Context) -> build_pb2.BuildCacheUsageResponse:
        views = await self.workers.run(self.service.usage)
        records = [build_pb2.BuildCacheRecord(
            id=v.id, kind=v.kind, description=v.description, size=v.size,
            created_at=v.created_at, last_used_at=v.last_used_at, usage_count=v.usage_count,
            in_use=v.in_use, shared=v.shared) for v in views]
        size = sum(v.size for v in views)
        reclaimable = sum(v.size for v in views if not v.in_use)
        return build_pb2.BuildCacheUsageResponse(records=records, size=size,
                                                 reclaimable=reclaimable)


def add_to_server(server: grpc.aio.Server, service: BuilderService, workers: Workers) -> None:
    build_pb2_grpc.add_BuildsServiceServicer_to_server(BuildsServicer(service, workers), server)
