"""POST /build (the legacy builder's API: a tar context in the body, options in the query,
the classic JSON stream back) and POST /build/prune, over BuilderService through
pyengine.build.stream as the gRPC edge runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from aiohttp import web

from pyengine.build.options import BuildOptions, BuildResultValue
from pyengine.build.stream import BuildFailed, run_build
from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.classic_build import ClassicBuildView
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.progress_json import JsonStream, stream_message
from pyengine.dockerapi.query import filters, flag, integer, json_object, json_strings
from pyengine.dockerapi.registry_auth import registry_config
from pyengine.dockerapi.routes import Routes
from pyengine.errors import InvalidArgument

CHUNK = 1 << 20
PEEK = 512
# what a context may start with: tar's magic at 257, or a compressor's
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def is_archive(head: bytes) -> bool:
    return head[257:262] == b"ustar" or head.startswith(_COMPRESSED)


def _networkmode(text: str) -> str:
    return "" if text in ("", "default", "bridge") else text


def options_from(request: web.Request, dockerfile_content: bytes | None) -> BuildOptions:
    q = request.query
    if q.get("remote"):
        raise InvalidArgument("build: remote contexts are not supported; send a tar context")
    hosts = [h for item in q.getall("extrahosts", []) for h in item.split(",") if h]
    return BuildOptions(
        tags=tuple(q.getall("t", [])),
        dockerfile=q.get("dockerfile") or "Dockerfile",
        build_args=json_object(request, "buildargs"),
        target=q.get("target", ""),
        no_cache=flag(request, "nocache"),
        cache_from=json_strings(request, "cachefrom"),
        pull=flag(request, "pull"),
        labels=json_object(request, "labels"),
        network=_networkmode(q.get("networkmode", "")),
        quiet=flag(request, "q"),
        platform=q.get("platform", ""),
        dockerfile_content=dockerfile_content,
        extra_hosts=tuple(hosts),
        registry_auths=registry_config(request),
    )


async def _context(request: web.Request) -> tuple[bytes | None, AsyncIterator[bytes]]:
    """The body as the context's chunks; a body that is no archive is the Dockerfile itself
    (`docker build - < Dockerfile` as an older client sends it), with an empty context."""
    head = b""
    while len(head) < PEEK:
        chunk = await request.content.read(PEEK - len(head))
        if not chunk:
            break
        head += chunk

    async def nothing() -> AsyncIterator[bytes]:
        return
        yield b""  # an async generator

    if head and not is_archive(head):
        return head + await request.content.read(), nothing()

    async def chunks() -> AsyncIterator[bytes]:
        if head:
            yield head
        async for chunk in request.content.iter_chunked(CHUNK):
            yield chunk

    return None, chunks()


def register(routes: Routes, api: ApiContext) -> None:
    service = api.engine.builds

    async def build(request: web.Request) -> web.StreamResponse:
        dockerfile, context = await _context(request)
        options = options_from(request, dockerfile)
        view = ClassicBuildView(force_rm=flag(request, "forcerm"))
        out = JsonStream(request)
        held: list[dict[str, Any]] = []  # -q: the output, sent only if the build fails
        async with aclosing(run_build(service, options, context)) as items:
            async for item in items:
                if isinstance(item, BuildFailed) and not out.started and not held:
                    raise item.error  # nothing sent yet: the error's own status
                messages = view.render(item)
                if options.quiet and not isinstance(item, BuildFailed):
                    held += messages
                    if isinstance(item, BuildResultValue):
                        messages = [stream_message(item.image_id + "\n")]
                    else:
                        continue
                elif options.quiet:
                    messages = held + messages
                for message in messages:
                    await out.send(message)
        return await out.finish()

    async def prune(request: web.Request) -> web.StreamResponse:
        wanted = filters(request)
        for key in wanted:
            if key not in ("until", "unused-for"):
                raise InvalidArgument(f"Invalid filter '{key}'")
        until = (wanted.get("until") or wanted.get("unused-for") or [""])[0]
        deleted, reclaimed = await api.workers.run(
            service.prune, flag(request, "all"), until, integer(request, "keep-storage"))
        return json_response({"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed})

    routes.post("/build", build)
    routes.post("/build/prune", prune)
