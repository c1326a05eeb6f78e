"""The system endpoints through the Docker Engine API: /_ping, /version, /info, /events,
/system/df, /auth; raw HTTP, the docker CLI 28 and docker-py."""

from __future__ import annotations

from api_harness import DockerApi


def test_ping_get_and_head(api: DockerApi) -> None:
    reply = api.http("GET", "/_ping")
    assert (reply.status, reply.text) == (200, "OK")
    assert reply.headers["Api-Version"] == "1.41"
    assert reply.headers["Ostype"] == "linux"
    head = api.http("HEAD", "/v1.41/_ping")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Api-Version"] == "1.41"
