"""The REST edge's app without a daemon (aiohttp's test server on loopback): docker's answers
for refused versions and unknown paths, its headers on streams, a stream that fails after its
headers, events' since/until and filters parsing, /info's registry configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pyengine.dockerapi import host_facts
from pyengine.dockerapi.app import build_app
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.routes import Routes
from pyengine.dockerapi.system import unix_nanos
from pyengine.errors import InvalidArgument, Unavailable


async def _stream_then_fail(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(b'{"first":1}\n')
    raise Unavailable("the domain went away")


async def _fail(request: web.Request) -> web.StreamResponse:
    raise InvalidArgument("bad thing")


def _routes_only() -> ApiContext:
    """A context whose domains are never called: the routes only capture them."""
    domains = SimpleNamespace(images=None, builds=None, containers=None, networks=None,
                              volumes=None, events=None, config=None)
    return ApiContext(domains, None, None)  # type: ignore[arg-type]  # never called


def _run(check: Callable[[TestClient], Awaitable[None]]) -> None:
    async def main() -> None:
        def extra(routes: Routes) -> None:
            routes.get("/test/stream", _stream_then_fail)
            routes.get("/test/fail", _fail)

        app = build_app(_routes_only(), extra=extra)
        async with TestClient(TestServer(app)) as client:
            await check(client)

    asyncio.run(main())


def test_refusals_and_unknown_paths() -> None:
    async def check(client: TestClient) -> None:
        answer = await client.get("/v1.42/_ping")
        assert answer.status == 400 and answer.headers["Content-Type"] == "application/json"
        assert await answer.text() == ('{"message":"client version 1.42 is too new. Maximum '
                                       'supported API version is 1.41"}\n')
        answer = await client.get("/v1.5/_ping")
        assert answer.status == 400 and answer.headers["Content-Type"].startswith("text/plain")
        assert (await answer.text()).startswith("client version 1.5 is too old.")
        for method, path in (("GET", "/nothing"), ("DELETE", "/_ping"), ("GET", "/v1.41/x")):
            answer = await client.request(method, path)
            assert answer.status == 404
            assert await answer.read() == b'{"message":"page not found"}\n'
        answer = await client.get("/v1.30/test/fail")
        assert (answer.status, await answer.read()) == (400, b'{"message":"bad thing"}\n')
        assert answer.headers["Api-Version"] == "1.41"
        assert answer.headers["Server"].startswith("pyengined/")  # as dockerd's "Docker/..."

    _run(check)


def test_a_stream_that_fails_after_its_headers_just_ends() -> None:
    async def check(client: TestClient) -> None:
        answer = await client.get("/test/stream")
        assert answer.status == 200 and answer.headers["Api-Version"] == "1.41"
        body = b""
        try:
            body = await answer.read()
        except Exception as err:  # aiohttp: the payload ended before its last chunk
            assert "payload" in str(err).lower() or "closed" in str(err).lower()
        assert b"HTTP/1.1" not in body and b"message" not in body

    _run(check)


@pytest.mark.parametrize(("text", "nanos"), [
    ("", 0), ("1733472000", 1733472000 * 10**9), ("1733472000.5", 1733472000_500_000_000),
    ("1733472000.123456789", 1733472000_123_456_789), ("1.0000000019", 1_000_000_001),
])
def test_unix_nanos(text: str, nanos: int) -> None:
    assert unix_nanos(text, "since") == nanos


@pytest.mark.parametrize("text", ["yesterday", "1.x", "1e9"])
def test_unix_nanos_refuses(text: str) -> None:
    with pytest.raises(InvalidArgument, match="since"):
        unix_nanos(text, "since")


def test_registry_config_splits_cidrs_from_hosts() -> None:
    doc: dict[str, Any] = host_facts.registry_config(
        ["10.1.0.0/16", "registry.local:5000", "127.0.0.0/8"], ["https://mirror.local"])
    assert doc["InsecureRegistryCIDRs"] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert doc["IndexConfigs"]["registry.local:5000"] == {
        "Name": "registry.local:5000", "Mirrors": [], "Secure": False, "Official": False}
    assert doc["IndexConfigs"]["docker.io"]["Mirrors"] == ["https://mirror.local"]
    assert doc["Mirrors"] == ["https://mirror.local"]


def test_engine_id_is_stable_and_dockers_form(tmp_path: Any) -> None:
    first = host_facts.engine_id(tmp_path)
    assert first == host_facts.engine_id(tmp_path) != host_facts.engine_id(tmp_path / "x")
    groups = first.split(":")
    assert len(groups) == 12 and all(len(g) == 4 and g.isalnum() for g in groups)


def test_a_client_leaving_ends_its_stream_but_not_a_change() -> None:
    """server.py's `track`: the stream's handler is cancelled when its client disconnects; a
    handler that changes something finishes its work although nobody reads the answer."""
    from pyengine.dockerapi.server import DockerApiServer

    async def main() -> None:
        started = {"stream": asyncio.Event(), "change": asyncio.Event()}
        gate, changed, stream_ended = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            await response.prepare(request)
            started["stream"].set()
            try:
                await asyncio.Event().wait()  # nothing more to send, ever
            finally:
                stream_ended.set()
            return response

        async def change(request: web.Request) -> web.StreamResponse:
            started["change"].set()
            await gate.wait()
            changed.set()
            return web.Response(status=204)

        def extra(routes: Routes) -> None:
            routes.get("/test/stream", stream)
            routes.post("/test/change", change)

        app = DockerApiServer(_routes_only(), [], 1.0).make_app(extra)
        async with TestServer(app, handler_cancellation=True) as test_server:
            for method, path in (("GET", "/test/stream"), ("POST", "/test/change")):
                _reader, writer = await asyncio.open_connection(test_server.host,
                                                               test_server.port)
                writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                             "Content-Length: 0\r\n\r\n".encode())
                await writer.drain()
                await asyncio.wait_for(started[path.rsplit("/", 1)[1]].wait(), 60)
                writer.close()
                await writer.wait_closed()
            await asyncio.wait_for(stream_ended.wait(), 60)
            assert not changed.is_set()
            gate.set()
            await asyncio.wait_for(changed.wait(), 60)

    asyncio.run(main())


def test_the_daemons_app_has_no_middleware() -> None:
    """Every handler is wrapped at registration (routes.py): with any middleware aiohttp runs two
    more coroutines per request, on docker ps' path too."""
    from pyengine.dockerapi.server import DockerApiServer

    app = DockerApiServer(_routes_only(), [], 1.0).make_app()
    assert not app.middlewares
    assert len(app.on_response_prepare) == 1


def test_system_df_fails_when_the_container_listing_does() -> None:
    """df's Containers are the containers resource's listing: its error is df's answer (it
    was read as an empty list)."""
    from pyengine.errors import DataLoss

    calls = []

    def broken() -> list[Any]:  # the listing's read fails; any later one finds none
        calls.append(1)
        if len(calls) == 1:
            raise DataLoss("container records unreadable")
        return []

    async def call(function: Callable[..., Any], *args: Any) -> Any:
        return function(*args)

    domains = SimpleNamespace(
        images=SimpleNamespace(disk_usage=lambda: SimpleNamespace(images=[], layers_size=0)),
        volumes=SimpleNamespace(usage=lambda: ([], {})),
        builds=SimpleNamespace(usage=lambda: []),
        containers=SimpleNamespace(all=broken, resolve=lambda ref: ref),
        networks=None, events=None, config=None)
    workers = SimpleNamespace(run=call, run_long=call)

    async def main() -> None:
        app = build_app(ApiContext(domains, workers, None))  # type: ignore[arg-type]
        async with TestClient(TestServer(app)) as client:
            answer = await client.get("/v1.41/system/df")
            assert answer.status == 500
            assert await answer.json() == {"message": "container records unreadable"}

    asyncio.run(main())
