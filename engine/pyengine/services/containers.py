"""ContainersService servicer: messages <-> ContainerService calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc.aio

from pyengine.api import containers_pb2, containers_pb2_grpc
from pyengine.cli.units import human_duration
from pyengine.containers import attach, detachkeys, execs
from pyengine.containers.model import RUNNING, Container, Spec
from pyengine.containers.service import ContainerService, container_json
from pyengine.errors import InvalidArgument
from pyengine.images.inspect import parse_time
from pyengine.services.errors import Context, streaming, unary
from pyengine.services.workers import Workers


def _since(stamp: str) -> float:
    if not stamp:
        return 0.0
    return time.time() - parse_time(stamp)


def status_text(c: Container) -> str:
    s = c.state
    if s.status == RUNNING:
        return f"Up {human_duration(_since(s.started_at))}"
    if s.status == "exited":
        return f"Exited ({s.exit_code}) {human_duration(_since(s.finished_at))} ago"
    if s.status == "created":
        return "Created"
    if s.status == "removing":
        return "Removal In Progress"
    return s.status.capitalize()


def _matches(c: Container, filters: list[tuple[str, str]]) -> bool:
    for key, value in filters:
        if key == "id" and not c.id.startswith(value):
            return False
        if key == "name" and value.lstrip("/") not in c.name:
            return False
        if key == "status" and c.state.status != value:
            return False
        if key == "ancestor" and value not in (c.image_name, c.image_id):
            return False
        if key == "label":
            k, _, v = value.partition("=")
            labels = {**c.config.get("image_labels", {}), **c.spec.labels}
            if k not in labels or (v and labels[k] != v):
                return False
    return True


def summary(c: Container) -> containers_pb2.ContainerSummary:
    args = c.config.get("args") or []
    return containers_pb2.ContainerSummary(
        id=c.id, names=["/" + c.name], image=c.image_name, image_id=c.image_id,
        command=" ".join(args), created=parse_time(c.created),
        state=c.state.status, status=status_text(c),
        labels={**c.config.get("image_labels", {}), **c.spec.labels},
    )


def spec_of(r: containers_pb2.CreateContainerRequest) -> Spec:
    return Spec(
        image=r.image, cmd=list(r.cmd) or None,
        entrypoint=list(r.entrypoint) if r.entrypoint_set or r.entrypoint else None,
        env=list(r.env), workdir=r.workdir, user=r.user, hostname=r.hostname,
        labels=dict(r.labels), tty=r.tty, memory=r.memory, nano_cpus=r.nano_cpus,
        pids_limit=r.pids_limit, runtime=r.runtime, read_only=r.read_only,
        stop_signal=r.stop_signal,
        stop_timeout=r.stop_timeout if r.stop_timeout_set else None,
        auto_remove=r.auto_remove, log_max_size=r.log_max_size,
        log_max_file=r.log_max_file or 1, restart=r.restart or "no", open_stdin=r.open_stdin,
    )


class ContainersServicer(containers_pb2_grpc.ContainersServiceServicer):
    def __init__(self, service: ContainerService, workers: Workers) -> None:
        self.service = service
        self.workers = workers

    @unary
    async def Create(self, request: containers_pb2.CreateContainerRequest,
                     context: Context) -> containers_pb2.CreateContainerResponse:
        if not request.image:
            raise InvalidArgument("an image is required")
        c = await self.workers.run(self.service.create, spec_of(request), request.name)
        return containers_pb2.CreateContainerResponse(id=c.id)

    @unary
    async def Start(self, request: containers_pb2.StartContainerRequest,
                    context: Context) -> containers_pb2.StartContainerResponse:
        await self.service.start(request.id)
        return containers_pb2.StartContainerResponse()

    @unary
    async def Stop(self, request: containers_pb2.StopContainerRequest,
                   context: Context) -> containers_pb2.StopContainerResponse:
        await self.service.stop(request.id, request.timeout if request.timeout_set else None)
        return containers_pb2.StopContainerResponse()

    @unary
    async def Kill(self, request: containers_pb2.KillContainerRequest,
                   context: Context) -> containers_pb2.KillContainerResponse:
        await self.service.kill(request.id, request.signal)
        return containers_pb2.KillContainerResponse()

    @unary
    async def Remove(self, request: containers_pb2.RemoveContainerRequest,
                     context: Context) -> containers_pb2.RemoveContainerResponse:
        cid = await self.service.remove(request.id, request.force)
        return containers_pb2.RemoveContainerResponse(id=cid)

    @unary
    async def List(self, request: containers_pb2.ListContainersRequest,
                   context: Context) -> containers_pb2.ListContainersResponse:
        filters = []
        for item in request.filters:
            key, sep, value = item.partition("=")
            if not sep or key not in ("id", "name", "status", "label", "ancestor"):
                raise InvalidArgument(f"invalid filter '{item}'")
            filters.append((key, value))
        found = await self.workers.run(self.service.all)
        shown = [c for c in found
                 if (request.all or c.state.status == RUNNING or
                     any(k == "status" for k, _ in filters)) and _matches(c, filters)]
        return containers_pb2.ListContainersResponse(containers=[summary(c) for c in shown])

    @unary
    async def Inspect(self, request: containers_pb2.InspectContainerRequest,
                      context: Context) -> containers_pb2.InspectContainerResponse:
        c = await self.workers.run(self.service.get, request.id)
        return containers_pb2.InspectContainerResponse(json=container_json(c))

    @unary
    async def Wait(self, request: containers_pb2.WaitContainerRequest,
                   context: Context) -> containers_pb2.WaitContainerResponse:
        code = await self.service.wait(request.id, request.condition or "not-running")
        return containers_pb2.WaitContainerResponse(status_code=code)

    @streaming
    async def Logs(self, request: containers_pb2.ContainerLogsRequest,
                   context: Context) -> AsyncIterator[containers_pb2.LogEntry]:
        c = await self.workers.run(self.service.get, request.id)
        streams = tuple(s for s, on in (("stdout", request.stdout), ("stderr", request.stderr))
                        if on) or ("stdout", "stderr")
        entries, queue, log = self.service.log_entries(
            c.id, tail=request.tail if request.tail >= 0 else -1, since=request.since,
            until=request.until, streams=streams)
        try:
            for entry in entries:
                yield containers_pb2.LogEntry(stream=entry.stream, data=entry.data,
                                              time_nano=entry.time_nano)
            if not request.follow or queue is None:
                return
            while (item := await queue.get()) is not None:
                if item.stream not in streams:
                    continue
                if request.until and item.time_nano > request.until:
                    return
                yield containers_pb2.LogEntry(stream=item.stream, data=item.data,
                                              time_nano=item.time_nano)
        finally:
            if queue is not None and log is not None:
                try:
                    log.subscribers.remove(queue.put_nowait)
                except ValueError:
                    pass

    @streaming
    async def Exec(self, request: containers_pb2.ExecRequest,
                   context: Context) -> AsyncIterator[containers_pb2.ExecOutput]:
        outputs = self.service.exec(request.id, list(request.cmd), list(request.env),
                                    request.workdir, request.user)
        try:
            async for item in outputs:
                if isinstance(item, int):
                    yield containers_pb2.ExecOutput(exited=True, exit_code=item)
                else:
                    yield containers_pb2.ExecOutput(stream=item.stream, data=item.data)
        finally:
            await outputs.aclose()

    @unary
    async def Restart(self, request: containers_pb2.RestartContainerRequest,
                      context: Context) -> containers_pb2.RestartContainerResponse:
        await self.service.restart(request.id,
                                   request.timeout if request.timeout_set else None)
        return containers_pb2.RestartContainerResponse()

    @unary
    async def Rename(self, request: containers_pb2.RenameContainerRequest,
                     context: Context) -> containers_pb2.RenameContainerResponse:
        await self.workers.run(self.service.rename, request.id, request.name)
        return containers_pb2.RenameContainerResponse()

    @unary
    async def Prune(self, request: containers_pb2.PruneContainersRequest,
                    context: Context) -> containers_pb2.PruneContainersResponse:
        return containers_pb2.PruneContainersResponse(deleted=await self.service.prune())

    @unary
    async def WriteStdin(self, request_iterator: AsyncIterator[containers_pb2.StdinChunk],
                         context: Context) -> containers_pb2.WriteStdinResponse:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.id:
            raise InvalidArgument("the first stdin message must name the container")

        async def chunks() -> AsyncIterator[bytes]:
            if first.data:
                yield first.data
            async for message in request_iterator:
                yield message.data

        await self.service.write_stdin(first.id, chunks())
        return containers_pb2.WriteStdinResponse()

    @streaming
    async def Attach(self, request_iterator: AsyncIterator[containers_pb2.AttachInput],
                     context: Context) -> AsyncIterator[containers_pb2.AttachOutput]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.id:
            raise InvalidArgument("the first attach message must name the container")
        keys = detachkeys.parse(first.detach_keys)
        streams = tuple(s for s, on in (("stdout", first.stdout), ("stderr", first.stderr))
                        if on)
        c, target, subscriber = await self.service.attach(first.id, streams)
        options = attach.Options(stdin=first.stdin and c.spec.open_stdin,
                                 detach_keys=keys if c.spec.tty else None,
                                 stdin_once=first.stdin_once)
        try:
            await context.send_initial_metadata(())  # subscribed: the client may start it
        except BaseException:
            subscriber.close()
            raise
        async for out in attach.serve(target, subscriber, _inputs(request_iterator), options):
            yield containers_pb2.AttachOutput(
                stream=out.stream, data=out.data, exited=out.exit_code is not None,
                exit_code=out.exit_code or 0, detached=out.detached)

    @streaming
    async def ExecStream(self, request_iterator: AsyncIterator[containers_pb2.ExecInput],
                         context: Context) -> AsyncIterator[containers_pb2.ExecOutput]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.start.id:
            raise InvalidArgument("the first exec message must name the container")
        keys = detachkeys.parse(first.detach_keys)
        r = first.start
        options = execs.ExecOptions(
            args=list(r.cmd), env=list(r.env), workdir=r.workdir, user=r.user, tty=first.tty,
            stdin=first.stdin, detach=first.detach, height=first.height, width=first.width)
        proc, subscriber = await self.service.exec_start(r.id, options)
        if subscriber is None:  # detached: it runs on
            return

        async def inputs() -> AsyncIterator[attach.Input]:
            if first.data:
                yield attach.Input(data=first.data)
            async for item in _inputs(request_iterator):
                yield item

        session = attach.Options(stdin=first.stdin, stdin_once=True,
                                 detach_keys=keys if first.tty else None)
        async for out in attach.serve(proc, subscriber, inputs(), session):
            yield containers_pb2.ExecOutput(
                stream=out.stream, data=out.data, exited=out.exit_code is not None,
                exit_code=out.exit_code or 0, detached=out.detached)


async def _inputs(messages: AsyncIterator[containers_pb2.AttachInput] |
                  AsyncIterator[containers_pb2.ExecInput]) -> AsyncIterator[attach.Input]:
    async for m in messages:
        yield attach.Input(data=m.data, height=m.height, width=m.width)


def add_to_server(server: grpc.aio.Server, service: ContainerService, workers: Workers) -> None:
    containers_pb2_grpc.add_ContainersServiceServicer_to_server(
        ContainersServicer(service, workers), server)


