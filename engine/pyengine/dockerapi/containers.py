"""/containers/* (but attach, logs and exec: dockerapi/attach.py, logs.py, execs.py) and
POST /commit: docker's query parameters and JSON shapes over ContainerService."""

from __future__ import annotations

import base64
import contextlib
import json
import stat
from typing import Any

from aiohttp import web

from pyengine.containers import list_filters, listing, ops, stats
from pyengine.containers.filesystem import CommitOptions
from pyengine.containers.model import RUNNING, Container
from pyengine.containers.resources import ResourceUpdate
from pyengine.containers.rootfs import PathStat
from pyengine.containers.service import container_json
from pyengine.containers.sizes import container_sizes
from pyengine.dockerapi import query
from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.body import json_body
from pyengine.dockerapi.container_config import from_body
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.routes import Routes
from pyengine.errors import InvalidArgument
from pyengine.images.inspect import parse_time
from pyengine.services.streams import ChunkPipe, spool

MAX_COPY = 64 << 30  # bytes a PUT /archive may upload (the gRPC edge's limit)
WAIT_CONDITIONS = ("not-running", "next-exit", "removed")
CHANGE_KINDS = {"C": 0, "A": 1, "D": 2}  # docker's archive.ChangeType
ZERO_TIME = "0001-01-01T00:00:00Z"
STAT_HEADER = "X-Docker-Container-Path-Stat"
# Go's os.FileMode type bits (docker's archive stat header carries them, not st_mode's)
GO_DIR, GO_SYMLINK, GO_DEVICE, GO_PIPE, GO_SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
GO_SETUID, GO_SETGID, GO_CHARDEV, GO_STICKY, GO_IRREGULAR = 1 << 23, 1 << 22, 1 << 21, 1 << 20, \
    1 << 19


# -- query parameters (dockerapi/query.py) ---------------------------------------------------

def _bool(request: web.Request, name: str, default: bool = False) -> bool:
    return query.flag(request, name, default)


def _int(request: web.Request, name: str) -> int | None:
    """An integer parameter; None when absent (stop's and restart's `t`)."""
    return query.integer(request, name) if request.query.get(name) else None


def _no_content() -> web.Response:
    return web.Response(status=204)


def _not_modified() -> web.Response:
    return web.Response(status=304)


# -- shapes ---------------------------------------------------------------------------------

def list_entry(item: listing.Listed, size: bool) -> dict[str, Any]:
    """docker's types.Container (GET /containers/json)."""
    from pyengine.containers import mounts

    c = item.container
    doc: dict[str, Any] = {
        "Id": c.id, "Names": ["/" + c.name, *item.link_names], "Image": c.image_name,
        "ImageID": c.image_id,
        "Command": listing.list_command(c.config.get("args") or []),
        "Created": int(parse_time(c.created)),
        "Ports": [{**({"IP": p.ip} if p.ip else {}), "PrivatePort": p.private_port,
                   **({"PublicPort": p.public_port} if p.public_port else {}), "Type": p.type}
                  for p in item.published],
        "Labels": listing.labels_of(c), "State": listing.state_text(c),
        "Status": listing.status_text(c),
        "HostConfig": {"NetworkMode": c.spec.network or "default"},
        "NetworkSettings": {"Networks": item.networks},
        "Mounts": mounts.inspect_mounts(c),
    }
    if size:
        doc["SizeRw"], doc["SizeRootFs"] = item.size_rw, item.size_root_fs
    return doc


def go_file_mode(mode: int) -> int:
    """A st_mode as Go's os.FileMode (what docker's path stat header carries)."""
    out = mode & 0o777
    kind = stat.S_IFMT(mode)
    out |= {stat.S_IFDIR: GO_DIR, stat.S_IFLNK: GO_SYMLINK, stat.S_IFIFO: GO_PIPE,
            stat.S_IFSOCK: GO_SOCKET, stat.S_IFBLK: GO_DEVICE,
            stat.S_IFCHR: GO_DEVICE | GO_CHARDEV}.get(kind, 0)
    if mode & stat.S_ISUID:
        out |= GO_SETUID
    if mode & stat.S_ISGID:
        out |= GO_SETGID
    if mode & stat.S_ISVTX:
        out |= GO_STICKY
    return out


def stat_header(found: PathStat) -> str:
    from datetime import UTC, datetime

    mtime = datetime.fromtimestamp(found.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"name": found.name, "size": found.size, "mode": go_file_mode(found.mode),
           "mtime": mtime, "linkTarget": found.link_target}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _rfc3339(ns: float) -> str:
    from pyengine.containers.service import ns_to_rfc3339

    return ns_to_rfc3339(int(ns))


def stats_json(f: stats.Figures, c: Container, read_ns: int, interface: str = "eth0"
               ) -> dict[str, Any]:
    """docker's types.StatsJSON for one sample of one container (zeros when it is not
    running, as docker's)."""
    def cpu(total: int, system: int) -> dict[str, Any]:
        usage = {"total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": 0}
        return {"cpu_usage": usage, **({"system_cpu_usage": system} if system else {}),
                **({"online_cpus": f.online_cpus} if f.online_cpus and total else {}),
                "throttling_data": {"periods": 0, "throttled_periods": 0,
                                    "throttled_time": 0}}

    doc: dict[str, Any] = {
        "read": _rfc3339(read_ns) if f.running else ZERO_TIME,
        "preread": _rfc3339(read_ns - stats.INTERVAL * 1e9) if f.running and f.pre_system_ns
        else ZERO_TIME,
        "pids_stats": {"current": f.pids} if f.running else {},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"major": 0, "minor": 0, "op": "Read", "value": f.block_read},
            {"major": 0, "minor": 0, "op": "Write", "value": f.block_write},
        ] if f.running else None, "io_serviced_recursive": None, "io_queue_recursive": None,
            "io_service_time_recursive": None, "io_wait_time_recursive": None,
            "io_merged_recursive": None, "io_time_recursive": None,
            "sectors_recursive": None},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu(f.cpu_ns, f.system_ns),
        "precpu_stats": cpu(f.pre_cpu_ns, f.pre_system_ns),
        "memory_stats": {"usage": f.memory, "stats": {}, "limit": f.memory_limit}
        if f.running else {},
        "name": "/" + c.name, "id": c.id,
    }
    if f.running and c.spec.network not in ("none", "host") and \
            not c.spec.network.startswith("container:"):
        doc["networks"] = {interface: {
            "rx_bytes": f.net_rx, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
            "tx_bytes": f.net_tx, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0}}
    return doc


# -- the routes -----------------------------------------------------------------------------

def register(routes: Routes, api: ApiContext) -> None:
    service = api.engine.containers
    workers = api.workers

    async def get(ref: str) -> Container:
        return await workers.run(service.get, ref)

    async def create(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        platform = request.query.get("platform", "")
        if platform and platform.split("/")[0] != "linux":
            raise InvalidArgument(f'"{platform}": unknown operating system or architecture: '
                                  "operating system is not supported")
        asked = from_body(body)
        c = await workers.run(service.create, asked.spec, request.query.get("name", ""))
        return json_response({"Id": c.id, "Warnings": asked.warnings}, 201)

    async def start(request: web.Request) -> web.StreamResponse:
        if await json_body(request):  # docker 20.10 refuses a HostConfig at start
            raise InvalidArgument("starting container with non-empty request body was "
                                  "deprecated since API v1.22 and removed in v1.24")
        c = await get(request.match_info["id"])
        if c.state.status == RUNNING:
            return _not_modified()
        await service.start(c.id)
        return _no_content()

    async def stop(request: web.Request) -> web.StreamResponse:
        c = await get(request.match_info["id"])
        if c.state.status != RUNNING:
            return _not_modified()
        await service.stop(c.id, _int(request, "t"))
        return _no_content()

    async def kill(request: web.Request) -> web.StreamResponse:
        await ops.kill(service, request.match_info["id"], request.query.get("signal", ""))
        return _no_content()

    async def restart(request: web.Request) -> web.StreamResponse:
        await service.restart(request.match_info["id"], _int(request, "t"))
        return _no_content()

    async def pause(request: web.Request) -> web.StreamResponse:
        await ops.pause(service, request.match_info["id"])
        return _no_content()

    async def unpause(request: web.Request) -> web.StreamResponse:
        await ops.unpause(service, request.match_info["id"])
        return _no_content()

    async def wait(request: web.Request) -> web.StreamResponse:
        condition = request.query.get("condition", "")
        if condition not in WAIT_CONDITIONS:  # dockerd 20.10: anything else is not-running
            condition = "not-running"
        c = await get(request.match_info["id"])
        waiter = service.wait(c.id, condition)
        # docker answers the headers at once (the client knows the wait is registered),
        # the body when the condition is met
        response = web.StreamResponse(status=200, headers={
            "Content-Type": "application/json"})
        try:
            await response.prepare(request)
            code = await waiter
        except BaseException:
            waiter.close()
            raise
        await response.write(json.dumps({"StatusCode": code, "Error": None},
                                        separators=(",", ":")).encode() + b"\n")
        await response.write_eof()
        return response

    async def remove(request: web.Request) -> web.StreamResponse:
        if _bool(request, "link"):  # /containers/PARENT/ALIAS?link=1: a legacy link
            await service.networking.remove_link(request.match_info["id"])
            return _no_content()
        await service.remove(request.match_info["id"], _bool(request, "force"),
                             _bool(request, "v"))
        return _no_content()

    async def list_(request: web.Request) -> web.StreamResponse:
        size = _bool(request, "size")
        listed = await listing.list_containers(
            service, workers, query.filter_items(request), _bool(request, "all"), size,
            _int(request, "limit") or 0)
        return json_response([list_entry(item, size) for item in listed])

    async def inspect(request: web.Request) -> web.StreamResponse:
        c = await get(request.match_info["id"])
        network = await workers.run(service.inspect_parts, c)
        doc = json.loads(container_json(c, network))
        if _bool(request, "size"):
            doc["SizeRw"], doc["SizeRootFs"] = await workers.run(container_sizes, service, c)
        return json_response(doc)

    async def top(request: web.Request) -> web.StreamResponse:
        args = request.query.get("ps_args", "").split()
        found = await ops.top(service, request.match_info["id"], args)
        return json_response({"Titles": found.titles, "Processes": found.processes})

    async def stats_(request: web.Request) -> web.StreamResponse:
        import time

        stream = _bool(request, "stream", True)
        one_shot = _bool(request, "one-shot")
        if one_shot and stream:
            raise InvalidArgument("cannot have stream=true and one-shot=true")
        c = await get(request.match_info["id"])
        frames = stats.frames(service, [c.id], stream, one_shot)
        response = web.StreamResponse(status=200, headers={
            "Content-Type": "application/json"})
        try:
            async for figures in frames:
                now = time.time_ns()
                for f in figures:
                    text = json.dumps(stats_json(f, c, now),
                                      separators=(",", ":")) + "\n"
                    if not response.prepared:
                        await response.prepare(request)
                    await response.write(text.encode())
        finally:
            await frames.aclose()
        if not response.prepared:  # removed before the first sample
            await response.prepare(request)
        await response.write_eof()
        return response

    async def changes(request: web.Request) -> web.StreamResponse:
        found = await workers.run(service.files.changes, request.match_info["id"])
        return json_response([{"Path": ch.path, "Kind": CHANGE_KINDS[ch.kind]}
                              for ch in found] or None)

    async def _send_chunks(request: web.Request, chunks: Any,
                           headers: dict[str, str]) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers=headers)
        async with contextlib.aclosing(chunks) as pieces:
            async for chunk in pieces:
                if not response.prepared:
                    await response.prepare(request)
                await response.write(chunk)
        if not response.prepared:
            await response.prepare(request)
        await response.write_eof()
        return response

    async def export(request: web.Request) -> web.StreamResponse:
        files = service.files
        c = await workers.run(files.container, request.match_info["id"])
        async with files.copying(c):
            chunks = ChunkPipe().run(workers, lambda out: files.export(c, out))
            return await _send_chunks(request, chunks, {"Content-Type": "application/x-tar"})

    def _path(request: web.Request) -> str:
        path = request.query.get("path", "")
        if not path:
            raise InvalidArgument("bad parameter: pathcannot be empty")  # dockerd's, as it is
        return path

    async def archive_stat(request: web.Request) -> web.StreamResponse:
        files = service.files
        c = await workers.run(files.container, request.match_info["id"])
        async with files.copying(c):
            found = await workers.run(files.stat_path, c, _path(request), False)
        return web.Response(status=200, headers={STAT_HEADER: stat_header(found)})

    async def archive_get(request: web.Request) -> web.StreamResponse:
        files = service.files
        path = _path(request)
        c = await workers.run(files.container, request.match_info["id"])
        async with files.copying(c):
            found = await workers.run(files.stat_path, c, path, False)
            chunks = ChunkPipe().run(workers, lambda out: files.copy_from(c, path, False, out))
            return await _send_chunks(request, chunks, {"Content-Type": "application/x-tar",
                                                        STAT_HEADER: stat_header(found)})

    async def archive_put(request: web.Request) -> web.StreamResponse:
        files = service.files
        path = _path(request)
        c = await workers.run(files.container, request.match_info["id"])
        upload = await spool(request.content.iter_chunked(1 << 16),
                             service.images.tmp_dir, MAX_COPY, workers)
        try:
            async with files.copying(c):
                await workers.run(files.copy_to, c, path, upload)
        finally:
            upload.unlink(missing_ok=True)
        return web.Response(status=200)

    async def rename(request: web.Request) -> web.StreamResponse:
        name = request.query.get("name", "")
        if not name:
            raise InvalidArgument("Neither old nor new names may be empty")
        await workers.run(service.rename, request.match_info["id"], name)
        return _no_content()

    async def update(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        policy = body.get("RestartPolicy")
        from pyengine.dockerapi.container_config import restart_text

        def number(key: str) -> int | None:
            value = body.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        change = ResourceUpdate(
            memory=number("Memory"), memory_swap=number("MemorySwap"),
            nano_cpus=number("NanoCpus"), cpu_shares=number("CpuShares"),
            cpu_quota=number("CpuQuota"), cpu_period=number("CpuPeriod"),
            cpuset_cpus=body.get("CpusetCpus") or None, pids_limit=number("PidsLimit"),
            restart=restart_text(policy) if isinstance(policy, dict) and policy.get("Name")
            else None)
        warnings = await ops.update(service, request.match_info["id"], change)
        return json_response({"Warnings": warnings or None})

    async def prune(request: web.Request) -> web.StreamResponse:
        items = query.filter_items(request)
        deleted, freed = await service.prune(list_filters.prune_matcher(items) if items
                                             else None)
        return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": freed})

    async def resize(request: web.Request) -> web.StreamResponse:
        height, width = _int(request, "h") or 0, _int(request, "w") or 0
        await ops.resize(service, request.match_info["id"], height, width)
        return web.Response(status=200)

    async def commit(request: web.Request) -> web.StreamResponse:
        ref = request.query.get("container", "")
        if not ref:
            raise InvalidArgument('invalid name or ID supplied: ""')
        body = await json_body(request)
        if any(body.values()):
            raise InvalidArgument("pyengined does not support a Config body on commit: "
                                  "give the changes as `changes` (Dockerfile instructions)")
        repo, tag = request.query.get("repo", ""), request.query.get("tag", "")
        reference = f"{repo}:{tag}" if repo and tag else repo
        image_id = await service.files.commit(ref, CommitOptions(
            reference=reference, comment=request.query.get("comment", ""),
            author=request.query.get("author", ""),
            changes=[line for value in request.query.getall("changes", [])
                     for line in value.splitlines() if line.strip()],
            pause=_bool(request, "pause", True)))
        return json_response({"Id": image_id}, 201)

    routes.post("/containers/create", create)
    routes.get("/containers/json", list_)
    routes.post("/containers/prune", prune)
    routes.get("/containers/{id}/json", inspect)
    routes.post("/containers/{id}/start", start)
    routes.post("/containers/{id}/stop", stop)
    routes.post("/containers/{id}/kill", kill)
    routes.post("/containers/{id}/restart", restart)
    routes.post("/containers/{id}/pause", pause)
    routes.post("/containers/{id}/unpause", unpause)
    routes.post("/containers/{id}/wait", wait)
    routes.delete("/containers/{id:.+}", remove)  # (a link: PARENT/ALIAS)
    routes.get("/containers/{id}/top", top)
    routes.get("/containers/{id}/stats", stats_)
    routes.get("/containers/{id}/changes", changes)
    routes.get("/containers/{id}/export", export)
    routes.head("/containers/{id}/archive", archive_stat)
    routes.get("/containers/{id}/archive", archive_get)
    routes.put("/containers/{id}/archive", archive_put)
    routes.post("/containers/{id}/rename", rename)
    routes.post("/containers/{id}/update", update)
    routes.post("/containers/{id}/resize", resize)
    routes.post("/commit", commit)
