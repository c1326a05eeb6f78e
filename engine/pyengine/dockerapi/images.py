"""/images/*: pull and import (create), list, inspect, history, tag, push, remove, prune,
save (get), load and search, over the image domain as the gRPC edge (services/images.py)
calls it, with docker's JSON shapes and progress streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from aiohttp import web

from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.errors import status_for
from pyengine.dockerapi.image_list import summaries
from pyengine.dockerapi.progress_json import (
    JsonStream,
    aux_message,
    error_message,
    progress_message,
)
from pyengine.dockerapi.query import filters, flag, integer
from pyengine.dockerapi.registry_auth import registry_auth
from pyengine.dockerapi.routes import Routes
from pyengine.errors import EngineError, InvalidArgument, NotFound
from pyengine.images import importer
from pyengine.images.service import RemoveItem
from pyengine.progress import ProgressChannel
from pyengine.services.streams import ChunkPipe, spool

MAX_UPLOAD = 64 << 30
UPLOAD_CHUNK = 1 << 20
FINAL_STATUSES = ("Already exists", "Pull complete")


def removed(items: list[RemoveItem]) -> list[dict[str, str]]:
    return [{"Untagged": i.untagged} if i.untagged else {"Deleted": i.deleted} for i in items]


def _reference(name: str, tag: str) -> str:
    if not tag:
        return name
    return f"{name}@{tag}" if tag.startswith("sha256:") else f"{name}:{tag}"


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(UPLOAD_CHUNK):
        yield chunk


async def progress_response(request: web.Request, api: ApiContext,
                            job: Callable[[ProgressChannel], None]) -> web.StreamResponse:
    """A pull's or push's reports as docker's JSON progress stream. Whole-operation lines
    wait for the first per-layer one, so an error before any transfer (unknown image, refused
    login) is answered with its status, as dockerd does before its output is flushed."""
    out = JsonStream(request)
    held: list[dict[str, Any]] = []
    # a layer found in the content store and then as an unpacked snapshot is reported twice;
    # docker sends one such status per layer
    seen: set[tuple[str, str]] = set()
    try:
        async with aclosing(api.jobs.stream(api.workers, job)) as reports:
            async for report in reports:
                if report.result:
                    continue
                if report.id and report.status in FINAL_STATUSES:
                    if (report.id, report.status) in seen:
                        continue
                    seen.add((report.id, report.status))
                held.append(progress_message(report))
                aux = aux_message(report)
                if aux is not None:
                    held.append(aux)
                if report.id or out.started:
                    for message in held:
                        await out.send(message)
                    held.clear()
    except Exception as err:
        if not out.started:
            raise
        await out.send(error_message(status_for(err)[1]))
        return await out.finish()
    for message in held:
        await out.send(message)
    return await out.finish()


def register(routes: Routes, api: ApiContext) -> None:
    service = api.engine.images

    async def create(request: web.Request) -> web.StreamResponse:
        source = request.query.get("fromSrc", "")
        if source:
            return await import_image(request, source)
        image = request.query.get("fromImage", "")
        if not image:
            raise InvalidArgument("fromImage or fromSrc is required")
        reference = _reference(image, request.query.get("tag", ""))
        platform = request.query.get("platform", "")
        auth = registry_auth(request)

        def job(channel: ProgressChannel) -> None:
            channel.finish(service.pull(reference, channel, platform=platform, auth=auth))

        return await progress_response(request, api, job)

    async def import_image(request: web.Request, source: str) -> web.StreamResponse:
        if source != "-":
            raise InvalidArgument("import: only fromSrc=- (the request body) is supported")
        os_, _, rest = request.query.get("platform", "").partition("/")
        arch, _, variant = rest.partition("/")
        opts = importer.ImportOptions(
            reference=_reference(request.query.get("repo", ""), request.query.get("tag", "")),
            changes=tuple(request.query.getall("changes", [])),
            message=request.query.get("message", ""),
            os=os_, architecture=arch, variant=variant,
        )
        path = await spool(_body(request), service.tmp_dir, MAX_UPLOAD, api.workers)
        try:
            image_id, _ = await api.jobs.quiet(
                api.workers, lambda quiet: service.import_tarball(path, opts, quiet))
        finally:
            path.unlink(missing_ok=True)
        out = JsonStream(request)
        await out.send({"status": image_id})
        return await out.finish()

    async def list_images(request: web.Request) -> web.StreamResponse:
        return json_response(await api.workers.run(summaries, service, filters(request)))

    async def inspect(request: web.Request) -> web.StreamResponse:
        return json_response(await api.workers.run(service.inspect, request.match_info["name"]))

    async def history(request: web.Request) -> web.StreamResponse:
        rows = await api.workers.run(service.history, request.match_info["name"])
        return json_response([
            {"Comment": r.comment, "Created": r.created, "CreatedBy": r.created_by,
             "Id": r.id, "Size": r.size, "Tags": r.tags or None}
            for r in rows
        ])

    async def tag(request: web.Request) -> web.StreamResponse:
        repo = request.query.get("repo", "")
        if not repo:
            raise InvalidArgument("repository name must have at least one component")
        target = _reference(repo, request.query.get("tag", ""))
        await api.workers.run(service.tag, request.match_info["name"], target)
        return web.Response(status=201)

    async def push(request: web.Request) -> web.StreamResponse:
        name, tag = request.match_info["name"], request.query.get("tag", "")
        auth = registry_auth(request)

        def job(channel: ProgressChannel) -> None:
            # no tag: every tag of the repository, as dockerd pushes them
            references = [_reference(name, tag)] if tag else service.repository_tags(name)
            if not references:
                raise NotFound(f"An image does not exist locally with the tag: {name}")
            for reference in references:
                digest = service.push(reference, channel, auth=auth)
            channel.finish(digest)

        return await progress_response(request, api, job)

    async def remove(request: web.Request) -> web.StreamResponse:
        # long: removing collects garbage, which waits for transfers in flight
        items = await api.workers.run_long(service.remove, request.match_info["name"],
                                           force=flag(request, "force"))
        return json_response(removed(items))

    async def prune(request: web.Request) -> web.StreamResponse:
        wanted = filters(request)
        for key in wanted:
            if key != "dangling":
                raise InvalidArgument(f"Invalid filter '{key}'")
        all_images = any(v.lower() in ("false", "0") for v in wanted.get("dangling", []))
        items, freed = await api.workers.run_long(service.prune, all_images=all_images)
        return json_response({"ImagesDeleted": removed(items) or None,
                              "SpaceReclaimed": freed})

    async def save(request: web.Request, names: list[str]) -> web.StreamResponse:
        for name in names:  # fail before streaming starts when an image is unknown
            await api.workers.run(service.resolve_local, name)
        response = web.StreamResponse(status=200)
        response.content_type = "application/x-tar"
        await response.prepare(request)
        pipe = ChunkPipe()
        job = pipe.run(api.workers, lambda out: service.save(names, "docker", out))
        async with aclosing(job) as chunks:
            async for chunk in chunks:
                await response.write(chunk)
        await response.write_eof()
        return response

    async def save_many(request: web.Request) -> web.StreamResponse:
        names = request.query.getall("names", [])
        if not names:
            raise InvalidArgument("save: no image names given")
        return await save(request, names)

    async def save_one(request: web.Request) -> web.StreamResponse:
        return await save(request, [request.match_info["name"]])

    async def load(request: web.Request) -> web.StreamResponse:
        path = await spool(_body(request), service.tmp_dir, MAX_UPLOAD, api.workers)
        out = JsonStream(request)
        try:
            result = await api.jobs.quiet(api.workers, lambda quiet: service.load(path, quiet))
        except EngineError as err:  # dockerd: 200, the error as the stream's message
            await out.send(error_message(str(err)))
            return await out.finish()
        finally:
            path.unlink(missing_ok=True)
        for name in result.loaded:
            what = "Loaded image ID" if name.startswith("sha256:") else "Loaded image"
            await out.send({"stream": f"{what}: {name}\n"})
        return await out.finish()

    async def search(request: web.Request) -> web.StreamResponse:
        term = request.query.get("term", "")
        limit = integer(request, "limit", 25)
        wanted = filters(request)
        found = await api.workers.run_long(service.search_index, term, limit=limit or 25,
                                           auth=registry_auth(request))
        for key in ("is-official", "is-automated"):
            for value in wanted.get(key, []):
                want = value.lower() in ("true", "1")
                found = [r for r in found
                         if (r.is_official if key == "is-official" else r.is_automated) == want]
        for value in wanted.get("stars", []):
            if value.isdigit():
                found = [r for r in found if r.star_count >= int(value)]
        return json_response([
            {"description": r.description, "is_automated": r.is_automated,
             "is_official": r.is_official, "name": r.name, "star_count": r.star_count}
            for r in found
        ])

    routes.post("/images/create", create)
    routes.get("/images/json", list_images)
    routes.post("/images/load", load)
    routes.get("/images/get", save_many)
    routes.get("/images/search", search)
    routes.post("/images/prune", prune)
    routes.get("/images/{name:.+}/json", inspect)
    routes.get("/images/{name:.+}/history", history)
    routes.get("/images/{name:.+}/get", save_one)
    routes.post("/images/{name:.+}/tag", tag)
    routes.post("/images/{name:.+}/push", push)
    routes.delete("/images/{name:.+}", remove)



