"""ContainersService servicer: messages <-> ContainerService calls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc.aio

from pyengine.api import common_pb2, containers_pb2, containers_pb2_grpc
from pyengine.containers import attach, detachkeys, exec_records, listing, ops, stats
from pyengine.containers.model import Container, Spec
from pyengine.containers.networking import Published
from pyengine.containers.resources import ResourceUpdate
from pyengine.containers.service import ContainerService, container_json
from pyengine.errors import InvalidArgument
from pyengine.images.inspect import parse_time
from pyengine.services.errors import Context, streaming, unary
from pyengine.services.streams import ChunkPipe, spool
from pyengine.services.workers import Workers

MAX_COPY = 64 << 30  # bytes a cp into a container may upload


def summary(c: Container) -> containers_pb2.ContainerSummary:
    args = c.config.get("args") or []
    return containers_pb2.ContainerSummary(
        id=c.id, names=["/" + c.name], image=c.image_name, image_id=c.image_id,
        command=listing.list_command(args), created=parse_time(c.created),
        state=listing.state_text(c), status=listing.status_text(c),
        labels=listing.labels_of(c),
    )


def port_mapping(p: Published) -> containers_pb2.PortMapping:
    return containers_pb2.PortMapping(ip=p.ip, private_port=p.private_port,
                                      public_port=p.public_port, type=p.type)


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
        init=r.init, network=r.network, publish=list(r.publish),
        publish_all=r.publish_all, expose=list(r.expose), ip=r.ip,
        network_aliases=list(r.network_aliases), dns=list(r.dns),
        dns_search=list(r.dns_search), dns_options=list(r.dns_options),
        add_hosts=list(r.add_hosts), links=list(r.links), mac_address=r.mac_address,
        ip6=r.ip6, link_local_ips=list(r.link_local_ips), binds=list(r.binds),
        mounts=list(r.mounts), tmpfs=list(r.tmpfs), volumes_from=list(r.volumes_from),
        health_cmd=list(r.health_cmd), health_interval_ns=r.health_interval_ns,
        health_timeout_ns=r.health_timeout_ns, health_start_period_ns=r.health_start_period_ns,
        health_retries=r.health_retries, no_healthcheck=r.no_healthcheck,
        pid_mode=r.pid_mode, ipc_mode=r.ipc_mode, uts_mode=r.uts_mode,
        cgroupns_mode=r.cgroupns_mode, group_add=list(r.group_add),
        device_cgroup_rules=list(r.device_cgroup_rules), log_driver=r.log_driver,
        volume_driver=r.volume_driver,
        privileged=r.privileged, cap_add=list(r.cap_add), cap_drop=list(r.cap_drop),
        security_opt=list(r.security_opt), devices=list(r.devices), sysctls=dict(r.sysctls),
        ulimits=list(r.ulimits), shm_size=r.shm_size, oom_score_adj=r.oom_score_adj,
    )


def resource_update(r: containers_pb2.UpdateContainerRequest) -> ResourceUpdate:
    return ResourceUpdate(
        memory=r.memory if r.memory_set else None,
        memory_swap=r.memory_swap if r.memory_swap_set else None,
        nano_cpus=r.nano_cpus if r.nano_cpus_set else None,
        cpu_shares=r.cpu_shares if r.cpu_shares_set else None,
        cpu_quota=r.cpu_quota if r.cpu_quota_set else None,
        cpu_period=r.cpu_period if r.cpu_period_set else None,
        cpuset_cpus=r.cpuset_cpus or None,
        pids_limit=r.pids_limit if r.pids_limit_set else None,
        restart=r.restart or None)


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
        await ops.kill(self.service, request.id, request.signal)
        return containers_pb2.KillContainerResponse()

    @unary
    async def Remove(self, request: containers_pb2.RemoveContainerRequest,
                     context: Context) -> containers_pb2.RemoveContainerResponse:
        cid = await self.service.remove(request.id, request.force, request.volumes)
        return containers_pb2.RemoveContainerResponse(id=cid)

    @unary
    async def List(self, request: containers_pb2.ListContainersRequest,
                   context: Context) -> containers_pb2.ListContainersResponse:
        listed = await listing.list_containers(self.service, self.workers,
                                               list(request.filters), request.all,
                                               request.size)
        out = []
        for item in listed:
            entry = summary(item.container)
            entry.ports.extend(port_mapping(p) for p in item.published)
            entry.networks.extend(sorted(item.networks))
            entry.size_rw, entry.size_root_fs = item.size_rw, item.size_root_fs
            out.append(entry)
        return containers_pb2.ListContainersResponse(containers=out)

    @unary
    async def Inspect(self, request: containers_pb2.InspectContainerRequest,
                      context: Context) -> containers_pb2.InspectContainerResponse:
        c = await self.workers.run(self.service.get, request.id)
        network = await self.workers.run(self.service.inspect_parts, c)
        return containers_pb2.InspectContainerResponse(json=container_json(c, network))

    @unary
    async def Wait(self, request: containers_pb2.WaitContainerRequest,
                   context: Context) -> containers_pb2.WaitContainerResponse:
        code = await self.service.wait(request.id, request.condition or "not-running")
        return containers_pb2.WaitContainerResponse(status_code=code)

    @streaming
    async def Logs(self, request: containers_pb2.ContainerLogsRequest,
                   context: Context) -> AsyncIterator[containers_pb2.LogEntry]:
        streams = tuple(s for s, on in (("stdout", request.stdout), ("stderr", request.stderr))
                        if on) or ("stdout", "stderr")
        entries = self.service.logs(request.id, tail=request.tail if request.tail >= 0 else -1,
                                    since=request.since, until=request.until, streams=streams,
                                    follow=request.follow)
        async with contextlib.aclosing(entries):
            async for entry in entries:
                yield containers_pb2.LogEntry(stream=entry.stream, data=entry.data,
                                              time_nano=entry.time_nano)

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
        deleted, freed = await self.service.prune()
        return containers_pb2.PruneContainersResponse(deleted=deleted, space_reclaimed=freed)

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

    # -- the filesystem verbs (containers/filesystem.py) ----------------------------------

    @unary
    async def Diff(self, request: containers_pb2.DiffContainerRequest,
                   context: Context) -> containers_pb2.DiffContainerResponse:
        changes = await self.workers.run(self.service.files.changes, request.id)
        return containers_pb2.DiffContainerResponse(changes=[
            containers_pb2.FileChange(kind=ch.kind, path=ch.path) for ch in changes])

    @streaming
    async def Export(self, request: containers_pb2.ExportContainerRequest,
                     context: Context) -> AsyncIterator[common_pb2.DataChunk]:
        files = self.service.files
        c = await self.workers.run(files.container, request.id)
        async with files.copying(c):
            async for chunk in ChunkPipe().run(self.workers, lambda out: files.export(c, out)):
                yield common_pb2.DataChunk(data=chunk)

    @streaming
    async def CopyFrom(self, request: containers_pb2.CopyFromContainerRequest,
                       context: Context) -> AsyncIterator[containers_pb2.CopyFromContainerResponse]:
        files = self.service.files
        c = await self.workers.run(files.container, request.id)
        async with files.copying(c):
            found = await self.workers.run(files.stat_path, c, request.path,
                                           request.follow_link)
            yield containers_pb2.CopyFromContainerResponse(
                stat=containers_pb2.ContainerPathStat(
                    name=found.name, mode=found.mode, size=found.size, mtime=found.mtime,
                    link_target=found.link_target))
            if request.stat_only:
                return
            async for chunk in ChunkPipe().run(
                    self.workers, lambda out: files.copy_from(c, request.path,
                                                              request.follow_link, out)):
                yield containers_pb2.CopyFromContainerResponse(data=chunk)

    @unary
    async def CopyTo(self, request_iterator: AsyncIterator[containers_pb2.CopyToContainerRequest],
                     context: Context) -> containers_pb2.CopyToContainerResponse:
        files = self.service.files
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("part") != "header" or not first.header.id:
            raise InvalidArgument("copy to a container: the first message must be the header")
        c = await self.workers.run(files.container, first.header.id)
        chunks = (m.data async for m in request_iterator if m.WhichOneof("part") == "data")
        path = await spool(chunks, self.service.images.tmp_dir, MAX_COPY, self.workers)
        try:
            async with files.copying(c):
                await self.workers.run(files.copy_to, c, first.header.path, path)
        finally:
            path.unlink(missing_ok=True)
        return containers_pb2.CopyToContainerResponse()

    @unary
    async def Commit(self, request: containers_pb2.CommitContainerRequest,
                     context: Context) -> containers_pb2.CommitContainerResponse:
        from pyengine.containers.filesystem import CommitOptions

        image_id = await self.service.files.commit(request.id, CommitOptions(
            reference=request.reference, comment=request.comment, author=request.author,
            changes=list(request.changes), pause=not request.no_pause))
        return containers_pb2.CommitContainerResponse(id=image_id)
    @unary
    async def Pause(self, request: containers_pb2.PauseContainerRequest,
                    context: Context) -> containers_pb2.PauseContainerResponse:
        await ops.pause(self.service, request.id)
        return containers_pb2.PauseContainerResponse()

    @unary
    async def Unpause(self, request: containers_pb2.UnpauseContainerRequest,
                      context: Context) -> containers_pb2.UnpauseContainerResponse:
        await ops.unpause(self.service, request.id)
        return containers_pb2.UnpauseContainerResponse()

    @unary
    async def Top(self, request: containers_pb2.TopContainerRequest,
                  context: Context) -> containers_pb2.TopContainerResponse:
        found = await ops.top(self.service, request.id, list(request.ps_args))
        return containers_pb2.TopContainerResponse(
            titles=found.titles,
            processes=[containers_pb2.TopRow(fields=row) for row in found.processes])

    @unary
    async def Update(self, request: containers_pb2.UpdateContainerRequest,
                     context: Context) -> containers_pb2.UpdateContainerResponse:
        warnings = await ops.update(self.service, request.id, resource_update(request))
        return containers_pb2.UpdateContainerResponse(warnings=warnings)

    @streaming
    async def Stats(self, request: containers_pb2.ContainerStatsRequest,
                    context: Context) -> AsyncIterator[containers_pb2.ContainerStatsFrame]:
        frames = stats.frames(self.service, list(request.ids), request.stream)
        try:
            async for figures in frames:
                yield containers_pb2.ContainerStatsFrame(containers=[
                    containers_pb2.ContainerStats(
                        id=f.id, name=f.name, running=f.running, cpu_percent=f.cpu_percent,
                        memory_usage=f.memory, memory_limit=f.memory_limit,
                        memory_percent=f.memory_percent, net_rx=f.net_rx, net_tx=f.net_tx,
                        block_read=f.block_read, block_write=f.block_write, pids=f.pids)
                    for f in figures])
        finally:
            await frames.aclose()
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
        # closed with this handler: a client gone mid-session unsubscribes at once (an
        # unread subscriber would hold the container's output up once its buffer is full)
        async with contextlib.aclosing(attach.serve(target, subscriber,
                                                    _inputs(request_iterator),
                                                    options)) as outputs:
            async for out in outputs:
                if out.detached:  # docker's detach event: the keys ended the session
                    self.service.attach_detached(c)
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
        config = exec_records.ExecConfig(
            args=list(r.cmd), env=list(r.env), workdir=r.workdir, user=r.user, tty=first.tty,
            attach_stdin=first.stdin, attach_stdout=True, attach_stderr=True,
            detach_keys=first.detach_keys)
        record = await self.service.exec_create(r.id, config)
        _, proc, subscriber = await self.service.exec_start_record(
            record.id, detach=first.detach, height=first.height, width=first.width)
        if subscriber is None:  # detached: it runs on
            return

        async def inputs() -> AsyncIterator[attach.Input]:
            if first.data:
                yield attach.Input(data=first.data)
            async for item in _inputs(request_iterator):
                yield item

        session = attach.Options(stdin=first.stdin, stdin_once=True,
                                 detach_keys=keys if first.tty else None)
        async with contextlib.aclosing(attach.serve(proc, subscriber, inputs(),
                                                    session)) as outputs:
            async for out in outputs:
                yield containers_pb2.ExecOutput(
                    stream=out.stream, data=out.data, exited=out.exit_code is not None,
                    exit_code=out.exit_code or 0, detached=out.detached)


    @unary
    async def Port(self, request: containers_pb2.PortContainerRequest,
                   context: Context) -> containers_pb2.PortContainerResponse:
        c = await self.workers.run(self.service.get, request.id)
        published = await self.workers.run(self.service.networking.published, c)
        return containers_pb2.PortContainerResponse(
            ports=[port_mapping(p) for p in published if p.public_port])


async def _inputs(messages: AsyncIterator[containers_pb2.AttachInput] |
                  AsyncIterator[containers_pb2.ExecInput]) -> AsyncIterator[attach.Input]:
    async for m in messages:
        yield attach.Input(data=m.data, height=m.height, width=m.width)


def add_to_server(server: grpc.aio.Server, service: ContainerService, workers: Workers) -> None:
    containers_pb2_grpc.add_ContainersServiceServicer_to_server(
        ContainersServicer(service, workers), server)


