"""The system endpoints of the Docker Engine API (/_ping, /version, /info, /events,
/system/df, /auth) through raw HTTP, the docker CLI 28 and docker-py.

The field sets below were recorded from a private dockerd 20.10.24 (Debian's docker.io) on
this machine: GET /version, /info, /system/df, /_ping (GET and HEAD) and the refusals of a
too-new / too-old version and of an unknown path."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from api_harness import DockerApi, UnixConnection
from ctr_harness import ContainerEngine

from tests.fixtures.registry import RegistryServer

# dockerd 20.10.24's keys
VERSION_KEYS = {"Platform", "Components", "Version", "ApiVersion", "MinAPIVersion", "GitCommit",
                "GoVersion", "Os", "Arch", "KernelVersion", "BuildTime"}
ENGINE_DETAILS = {"ApiVersion", "Arch", "BuildTime", "Experimental", "GitCommit", "GoVersion",
                  "KernelVersion", "MinAPIVersion", "Os"}
INFO_KEYS = {
    "ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images",
    "Driver", "DriverStatus", "Plugins", "MemoryLimit", "SwapLimit", "KernelMemory",
    "KernelMemoryTCP", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit",
    "IPv4Forwarding", "BridgeNfIptables", "BridgeNfIp6tables", "Debug", "NFd", "OomKillDisable",
    "NGoroutines", "SystemTime", "LoggingDriver", "CgroupDriver", "CgroupVersion",
    "NEventsListener", "KernelVersion", "OperatingSystem", "OSVersion", "OSType",
    "Architecture", "IndexServerAddress", "RegistryConfig", "NCPU", "MemTotal",
    "GenericResources", "DockerRootDir", "HttpProxy", "HttpsProxy", "NoProxy", "Name",
    "Labels", "ExperimentalBuild", "ServerVersion", "Runtimes", "DefaultRuntime", "Swarm",
    "LiveRestoreEnabled", "Isolation", "InitBinary", "ContainerdCommit", "RuncCommit",
    "InitCommit", "SecurityOptions", "Warnings"}
REGISTRY_CONFIG_KEYS = {"AllowNondistributableArtifactsCIDRs",
                        "AllowNondistributableArtifactsHostnames", "InsecureRegistryCIDRs",
                        "IndexConfigs", "Mirrors"}
DF_KEYS = {"LayersSize", "Images", "Containers", "Volumes", "BuildCache", "BuilderSize"}
DF_IMAGE_KEYS = {"Containers", "Created", "Id", "Labels", "ParentId", "RepoDigests", "RepoTags",
                 "SharedSize", "Size", "VirtualSize"}
DF_VOLUME_KEYS = {"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope",
                  "UsageData"}
PING_HEADERS = {"Api-Version": "1.41", "Cache-Control": "no-cache, no-store, must-revalidate",
                "Docker-Experimental": "false", "Ostype": "linux", "Pragma": "no-cache",
                "Content-Type": "text/plain; charset=utf-8"}
EVENT_KEYS = ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]


def test_ping_get_and_head(api: DockerApi) -> None:
    for path in ("/_ping", "/v1.41/_ping", "/v1.24/_ping"):
        reply = api.http("GET", path)
        assert (reply.status, reply.text) == (200, "OK")
        for name, value in PING_HEADERS.items():
            assert reply.headers[name] == value, name
    head = api.http("HEAD", "/_ping")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Content-Length"] == "0"
    for name, value in PING_HEADERS.items():
        assert head.headers[name] == value, name
    assert head.headers["Api-Version"] == "1.41"


def test_versions_and_refusals(api: DockerApi) -> None:
    unversioned = api.http("GET", "/version").json()
    assert api.http("GET", "/v1.41/version").json()["ApiVersion"] == "1.41"
    assert api.http("GET", "/v1.24/version").json()["Version"] == unversioned["Version"]
    too_new = api.http("GET", "/v1.99/version")
    assert too_new.status == 400
    assert too_new.headers["Content-Type"] == "application/json"
    assert too_new.json() == {"message": "client version 1.99 is too new. Maximum supported "
                                         "API version is 1.41"}
    too_old = api.http("GET", "/v1.11/version")
    assert too_old.status == 400
    assert too_old.text == ("client version 1.11 is too old. Minimum supported API version is "
                            "1.12, please upgrade your client to a newer version\n")
    for method, path in (("GET", "/nope"), ("GET", "/v1.41/nope"), ("POST", "/_ping")):
        missing = api.http(method, path)
        assert (missing.status, missing.body) == (404, b'{"message":"page not found"}\n')
        assert missing.headers["Content-Type"] == "application/json"


def test_version_document(api: DockerApi) -> None:
    doc = api.http("GET", "/version").json()
    assert set(doc) == VERSION_KEYS
    assert (doc["ApiVersion"], doc["MinAPIVersion"], doc["Os"]) == ("1.41", "1.12", "linux")
    engine, runtime = doc["Components"]
    assert engine["Name"] == "Engine" and engine["Version"] == doc["Version"]
    assert set(engine["Details"]) == ENGINE_DETAILS
    assert engine["Details"]["GoVersion"].startswith("python3.")
    # the default runtime (this checkout's pyrunc launcher) describes itself
    assert runtime["Name"] == "pyrunc" and runtime["Version"]


def test_docker_cli_version(api: DockerApi) -> None:
    server = json.loads(api.docker("version", "--format", "{{json .Server}}").stdout)
    assert server["ApiVersion"] == "1.41"
    assert [c["Name"] for c in server["Components"]] == ["Engine", "pyrunc"]
    text = api.docker("version").stdout
    assert "Server: pyengine" in text and "API version:      1.41 (minimum version 1.12)" in text


def test_info_document_and_counts(api: DockerApi, engine: ContainerEngine) -> None:
    doc = api.http("GET", "/info").json()
    assert set(doc) == INFO_KEYS
    assert set(doc["RegistryConfig"]) == REGISTRY_CONFIG_KEYS
    assert doc["Images"] == 1  # busybox
    assert doc["DockerRootDir"] == str(engine.data_root)
    before = doc["ContainersRunning"], doc["ContainersStopped"]
    engine.pyctl("run", "-d", "--name", "info-up", "busybox", "sleep", "300", check=True)
    engine.pyctl("create", "--name", "info-created", "busybox", "true", check=True)
    after = api.http("GET", "/v1.41/info").json()
    assert (after["ContainersRunning"], after["ContainersStopped"]) == (before[0] + 1,
                                                                        before[1] + 1)
    assert after["Containers"] == doc["Containers"] + 2
    assert after["ID"] == doc["ID"]


def test_docker_cli_info(api: DockerApi) -> None:
    result = api.docker("info")
    assert "Server Version: 0.1.0" in result.stdout or "Server Version:" in result.stdout
    assert "Default Runtime:" in result.stdout and "Cgroup Driver: cgroupfs" in result.stdout
    assert "ERROR" not in result.stderr and "error" not in result.stdout.lower()
    doc = json.loads(api.docker("info", "--format", "{{json .}}").stdout)
    assert doc["OSType"] == "linux" and doc["Images"] == 1


def _stamp() -> str:
    return f"{time.time():.9f}"


def test_events_replay_since_until(api: DockerApi, engine: ContainerEngine) -> None:
    since = _stamp()
    engine.pyctl("run", "--rm", "--name", "ev-replay", "busybox", "true", check=True)
    engine.pyctl("volume", "create", "ev-vol", check=True)
    until = _stamp()
    # an until in the past: the kept events are replayed and the stream ends
    cli = api.docker("events", "--since", since, "--until", until, "--filter",
                     "container=ev-replay", "--format", "{{json .}}", timeout=60)
    docs = [json.loads(line) for line in cli.stdout.splitlines()]
    actions = [d["Action"] for d in docs]
    assert actions[0] == "create" and actions[-1] == "destroy"
    assert {"attach", "start", "die"} <= set(actions)
    assert list(docs[0]) == EVENT_KEYS
    assert docs[0]["Actor"]["Attributes"]["name"] == "ev-replay"
    assert docs[0]["from"] == "busybox" and docs[0]["scope"] == "local"
    assert docs[0]["time"] == docs[0]["timeNano"] // 10**9
    query = urllib.parse.urlencode({"since": since, "until": until,
                                    "filters": json.dumps({"type": ["volume"]})})
    raw = api.http("GET", f"/v1.41/events?{query}")
    assert raw.status == 200 and raw.headers["Content-Type"] == "application/json"
    volume_events = [json.loads(line) for line in raw.text.splitlines()]
    assert [(d["Type"], d["Action"], d["Actor"]["ID"]) for d in volume_events] == \
        [("volume", "create", "ev-vol")]
    assert list(volume_events[0]) == ["Type", "Action", "Actor", "scope", "time", "timeNano"]
    # the old filter form ({"key": {"value": true}}) and a key docker does not know (ignored)
    query = urllib.parse.urlencode({"since": since, "until": until, "filters": json.dumps(
        {"event": {"create": True}, "type": {"volume": True}, "nonsense": ["x"]})})
    assert len(api.http("GET", f"/events?{query}").text.splitlines()) == 1
    bad = api.http("GET", "/events?since=yesterday")
    assert bad.status == 400 and "since" in bad.json()["message"]


def _listeners(api: DockerApi) -> int:
    return int(api.http("GET", "/info").json()["NEventsListener"])


def _wait_for_listeners(api: DockerApi, count: int) -> None:
    for _ in range(600):
        if _listeners(api) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {count} events listeners")


@contextmanager
def raw_stream(api: DockerApi, path: str) -> Iterator[http.client.HTTPResponse]:
    """A GET whose response is read line by line from the returned socket (after its
    headers)."""
    connection = UnixConnection(api.socket, timeout=120)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        assert answer.status == 200
        yield answer
    finally:
        connection.close()


def test_events_stream_while_containers_run(api: DockerApi, engine: ContainerEngine) -> None:
    query = urllib.parse.urlencode({"filters": json.dumps(
        {"type": ["container"], "event": ["start", "die"], "container": ["ev-stream"]})})
    listeners = _listeners(api)
    with raw_stream(api, f"/events?{query}") as answer:
        cli = subprocess.Popen(["docker", "events", "--filter", "container=ev-stream",
                                "--filter", "event=destroy", "--format", "{{.Action}} "
                                "{{.Actor.Attributes.name}}"], env=api.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_listeners(api, listeners + 2)
            engine.pyctl("run", "-d", "--name", "ev-other", "busybox", "true", check=True)
            engine.pyctl("run", "--name", "ev-stream", "busybox", "true", check=True)
            engine.pyctl("rm", "ev-stream", check=True)
            first = json.loads(answer.readline())
            second = json.loads(answer.readline())
            assert [first["Action"], second["Action"]] == ["start", "die"]
            assert first["Actor"]["Attributes"]["name"] == "ev-stream"
            assert second["Actor"]["Attributes"]["exitCode"] == "0"
            assert cli.stdout is not None
            assert cli.stdout.readline() == "destroy ev-stream\n"
        finally:
            cli.terminate()
            cli.wait()
    # the streams' subscriptions end with their clients
    for _ in range(600):
        if _listeners(api) == listeners:
            break
        time.sleep(0.05)
    assert _listeners(api) == listeners


def test_system_df(api: DockerApi, engine: ContainerEngine) -> None:
    engine.pyctl("volume", "create", "df-vol", check=True)
    engine.pyctl("create", "--name", "df-ctr", "busybox", "true", check=True)
    doc = api.http("GET", "/system/df").json()
    assert set(doc) == DF_KEYS, doc
    # docker's df lists the containers as GET /containers/json?all=1&size=1 does
    listed = api.http("GET", "/containers/json?all=1&size=1").json()
    assert doc["Containers"] == listed and "df-ctr" in listed[0]["Names"][0]
    (image,) = doc["Images"]
    assert set(image) == DF_IMAGE_KEYS and image["RepoTags"] == ["busybox:latest"]
    assert image["Containers"] == 1
    assert image["Size"] > 0 and doc["LayersSize"] >= image["Size"]
    (volume,) = doc["Volumes"]
    assert set(volume) == DF_VOLUME_KEYS and volume["Name"] == "df-vol"
    assert volume["UsageData"] == {"RefCount": 0, "Size": 0}
    rows = {line.split()[0] + line.split()[1]: line.split()
            for line in api.docker("system", "df").stdout.splitlines()[1:]}
    assert rows["Images1"] and rows["LocalVolumes"][2:4] == ["1", "0"]
    verbose = api.docker("system", "df", "-v").stdout
    assert "df-vol" in verbose and "busybox" in verbose


def test_auth_against_a_registry(api: DockerApi, registry: RegistryServer) -> None:
    host = registry.host
    reply = api.http("POST", "/v1.41/auth", {"username": "someone", "password": "secret",
                                             "serveraddress": host})
    assert reply.status == 200
    assert reply.json() == {"IdentityToken": "", "Status": "Login Succeeded"}
    login = api.docker("login", host, "-u", "someone", "--password-stdin", input="secret\n")
    assert "Login Succeeded" in login.stdout
    refused = api.http("POST", "/auth", {"serveraddress": host})
    assert refused.status == 400 and "username" in refused.json()["message"]


def test_docker_py(api: DockerApi, engine: ContainerEngine) -> None:
    client = api.client(timeout=120)
    try:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == "1.41"
        assert client.info()["DockerRootDir"] == str(engine.data_root)
        since = time.time()
        engine.pyctl("run", "--rm", "--name", "ev-py", "busybox", "true", check=True)
        events = client.events(since=since, until=time.time(), decode=True,
                               filters={"container": "ev-py"})
        actions = [e["Action"] for e in events]
        assert actions[0] == "create" and "start" in actions
        # streaming: docker-py returns once the response's headers came (subscribed); the
        # client's timeout guards a hang
        stream = client.events(decode=True, filters={"container": "ev-py-live",
                                                     "event": ["start", "die"]})
        try:
            engine.pyctl("run", "--rm", "--name", "ev-py-live", "busybox", "true", check=True)
            assert [next(stream)["Action"], next(stream)["Action"]] == ["start", "die"]
        finally:
            stream.close()
        assert client.df()["Images"][0]["RepoTags"] == ["busybox:latest"]
    finally:
        client.close()


@pytest.mark.parametrize("path", ["/events?until=1", "/v1.41/events?since=1&until=2"])
def test_events_until_in_the_past_ends(api: DockerApi, path: str) -> None:
    reply = api.http("GET", path)
    assert (reply.status, reply.body) == (200, b"")
