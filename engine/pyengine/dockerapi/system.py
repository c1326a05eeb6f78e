"""System endpoints: /_ping, /version, /info, /events, /system/df, /auth (docker 20.10's
shapes, checked against a private dockerd 20.10; the values describe pyengined honestly)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from pyengine import __version__
from pyengine.dockerapi import host_facts, query
from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.routes import Routes
from pyengine.dockerapi.versioning import API_VERSION, MIN_API_VERSION
from pyengine.errors import EngineError, InvalidArgument
from pyengine.event_message import docker_message
from pyengine.events import parse_filters
from pyengine.images.inspect import parse_time
from pyengine.images.service import RegistryAuth

if TYPE_CHECKING:
    from pyengine.volumes.service import VolumeService

log = logging.getLogger("pyengine.dockerapi")

# dockerd's /_ping headers (the CLI and docker-py negotiate their API version from them);
# Builder-Version 1: the classic builder (the CLI then builds without BuildKit)
PING_HEADERS = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Builder-Version": "1",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}
# the filter keys docker's events filter knows; it ignores any other key (the gRPC edge's
# parse_filters refuses them: a REST client's unknown key is dropped here, as dockerd does)
EVENT_FILTER_KEYS = ("type", "event", "image", "container", "network", "volume", "label",
                     "daemon", "plugin", "node", "service", "secret", "config", "scope")


async def ping(request: web.Request) -> web.StreamResponse:
    if request.method == "HEAD":  # dockerd's HEAD answer says its length (0) too
        return web.Response(body=b"", headers={**PING_HEADERS, "Content-Length": "0",
                                               "Content-Type": "text/plain; charset=utf-8"})
    return web.Response(text="OK", headers=PING_HEADERS, content_type="text/plain",
                        charset="utf-8")


# -- /version ---------------------------------------------------------------------------------

async def version(request: web.Request) -> web.StreamResponse:
    api = _api(request)
    runtime = await host_facts.runtime_version(api.workers, api.config.default_runtime)
    facts = host_facts.engine_facts()
    details = {"ApiVersion": API_VERSION, "Arch": facts.goarch, "BuildTime": facts.build_time,
               "Experimental": "false", "GitCommit": facts.git_commit,
               "GoVersion": facts.python_version, "KernelVersion": facts.kernel_version,
               "MinAPIVersion": MIN_API_VERSION, "Os": "linux"}
    components: list[dict[str, Any]] = [
        {"Name": "Engine", "Version": __version__, "Details": details},
        {"Name": runtime.name, "Version": runtime.version,
         "Details": {"GitCommit": runtime.commit}},
    ]
    return json_response({
        "Platform": {"Name": "pyengine"}, "Components": components,
        "Version": __version__, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": facts.git_commit, "GoVersion": facts.python_version, "Os": "linux",
        "Arch": facts.goarch, "KernelVersion": facts.kernel_version,
        "BuildTime": facts.build_time,
    })


def _api(request: web.Request) -> ApiContext:
    from pyengine.dockerapi.app import API_KEY

    return request.app[API_KEY]


# -- /info ------------------------------------------------------------------------------------

def _container_counts(api: ApiContext) -> dict[str, int]:
    running = paused = stopped = 0
    for c in api.engine.containers.all():
        if c.state.running and c.state.paused:
            paused += 1
        elif c.state.running:
            running += 1
        else:
            stopped += 1
    return {"Containers": running + paused + stopped, "ContainersRunning": running,
            "ContainersPaused": paused, "ContainersStopped": stopped}


async def info(request: web.Request) -> web.StreamResponse:
    api = _api(request)
    cfg = api.config
    images = await api.workers.run(api.engine.images.image_count)
    counts = await api.workers.run(_container_counts, api)
    runtime = await host_facts.runtime_version(api.workers, cfg.default_runtime)
    host = await api.workers.run(host_facts.host_info, cfg)
    return json_response({
        "ID": host.engine_id, **counts, "Images": images,
        "Driver": cfg.storage_driver, "DriverStatus": host.driver_status,
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
                    "Authorization": None, "Log": ["json-file"]},
        **host.cgroup_features,
        "IPv4Forwarding": host.ipv4_forwarding, "BridgeNfIptables": host.bridge_nf_iptables,
        "BridgeNfIp6tables": host.bridge_nf_ip6tables,
        "Debug": cfg.log_level == "debug", "NFd": host.nfd,
        "NGoroutines": len(asyncio.all_tasks()) + host.threads,
        "SystemTime": host.system_time, "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs", "CgroupVersion": host.cgroup_version,
        "NEventsListener": api.engine.events.subscriber_count(),
        "KernelVersion": host.kernel_version, "OperatingSystem": host.operating_system,
        "OSVersion": host.os_version, "OSType": "linux", "Architecture": host.architecture,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": host_facts.registry_config(cfg.insecure_registries,
                                                     cfg.registry_mirrors),
        "NCPU": host.ncpu, "MemTotal": host.mem_total, "GenericResources": None,
        "DockerRootDir": str(cfg.data_root),
        "HttpProxy": host.http_proxy, "HttpsProxy": host.https_proxy, "NoProxy": host.no_proxy,
        "Name": host.name, "Labels": [], "ExperimentalBuild": False,
        "ServerVersion": __version__,
        "Runtimes": {name: {"path": path} for name, path in host.runtimes.items()},
        "DefaultRuntime": cfg.default_runtime,
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                  "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        # containers run under shims the daemon reattaches to at its next start
        "LiveRestoreEnabled": True,
        "Isolation": "", "InitBinary": host.init_binary,
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": runtime.commit, "Expected": runtime.commit},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": host.security_options, "Warnings": host.warnings or None,
    })


# -- /events ----------------------------------------------------------------------------------

def _filters(request: web.Request) -> list[str]:
    """docker's `filters` JSON (query.filters: both of its forms) as KEY=VALUE items of the
    keys docker's events know."""
    return [f"{key}={value}" for key, values in query.filters(request).items()
            if key in EVENT_FILTER_KEYS for value in values]


def unix_nanos(text: str, name: str) -> int:
    """docker's since/until: unix seconds with an optional fraction ("1733472000.5") -> ns;
    "" -> 0."""
    if not text:
        return 0
    seconds, _, fraction = text.partition(".")
    if not seconds.lstrip("-").isdigit() or (fraction and not fraction.isdigit()):
        raise InvalidArgument(f"invalid value for {name}: {text!r}: use unix seconds")
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9] or 0)


async def events(request: web.Request) -> web.StreamResponse:
    api = _api(request)
    since = unix_nanos(request.query.get("since", ""), "since")
    until = unix_nanos(request.query.get("until", ""), "until")
    filters = parse_filters(_filters(request))
    # docker replays its kept events up to `until` when only `until` is given
    subscription = api.engine.events.subscribe(filters, since=since or (1 if until else 0),
                                               until=until)
    try:
        response = web.StreamResponse(headers={"Content-Type": "application/json",
                                               "Docker-Experimental": "false",
                                               "Ostype": "linux"})
        await response.prepare(request)  # the client knows it is subscribed
        try:
            async for event in subscription:
                line = json.dumps(docker_message(event), separators=(",", ":")) + "\n"
                await response.write(line.encode())
        except EngineError as err:  # cut off (too far behind): the stream ends, as docker's
            log.warning("events stream ended", extra={"fields": {"error": str(err)}})
        await response.write_eof()
        return response
    finally:
        subscription.close()


# -- /system/df -------------------------------------------------------------------------------

async def disk_usage(request: web.Request) -> web.StreamResponse:
    api = _api(request)
    engine = api.engine
    usage = await api.workers.run_long(engine.images.disk_usage)
    volumes_doc = await api.workers.run_long(_volumes_usage, engine.volumes)
    cache = await api.workers.run_long(engine.builds.usage)
    containers = await _containers_usage(api)
    all_containers = await api.workers.run(engine.containers.all)
    images_doc = [{
        "Containers": sum(1 for c in all_containers if c.image_id == i.id),
        "Created": int(parse_time(i.created)), "Id": i.id, "Labels": None, "ParentId": "",
        "RepoDigests": None, "RepoTags": i.repo_tags or None,
        "SharedSize": i.shared_size, "Size": i.size, "VirtualSize": i.size,
    } for i in usage.images]
    cache_doc = [{
        "ID": r.id, "Parent": "", "Type": r.kind, "Description": r.description,
        "InUse": r.in_use, "Shared": r.shared, "Size": r.size,
        "CreatedAt": r.created_at, "LastUsedAt": r.last_used_at or None,
        "UsageCount": r.usage_count,
    } for r in cache]
    return json_response({
        "LayersSize": usage.layers_size, "Images": images_doc, "Containers": containers,
        "Volumes": volumes_doc, "BuildCache": cache_doc or None,
        "BuilderSize": sum(r.size for r in cache if not r.shared),
    })


def _volumes_usage(volumes: VolumeService) -> list[dict[str, Any]]:
    """Blocking: each volume's inspect document with its UsageData (docker's df)."""
    found, users = volumes.usage()
    docs = []
    for v in found:
        doc = volumes.inspect(v.name)
        doc["UsageData"] = {"RefCount": len(users.get(v.name, ())), "Size": volumes.size(v.name)}
        docs.append(doc)
    return docs


async def _containers_usage(api: ApiContext) -> list[dict[str, Any]]:
    """Every container as GET /containers/json?all=1&size=1 lists it (docker's df carries
    that list): the containers resource's listing and shape; its errors are df's."""
    from pyengine.containers import listing
    from pyengine.dockerapi.containers import list_entry

    found = await listing.list_containers(api.engine.containers, api.workers, [], True, True)
    return [list_entry(item, True) for item in found]


# -- /auth ------------------------------------------------------------------------------------

async def auth(request: web.Request) -> web.StreamResponse:
    api = _api(request)
    try:
        body = await request.json()
    except ValueError as err:
        raise InvalidArgument(f"invalid JSON: {err}") from None
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: the body must be an object")
    credentials = RegistryAuth(str(body.get("serveraddress") or ""),
                               str(body.get("username") or ""), str(body.get("password") or ""),
                               str(body.get("identitytoken") or ""))
    token = await api.workers.run_long(api.engine.images.login, credentials)
    return json_response({"IdentityToken": token, "Status": "Login Succeeded"})


def register(routes: Routes, api: ApiContext) -> None:
    routes.get("/_ping", ping)
    routes.head("/_ping", ping)
    routes.get("/version", version)
    routes.get("/info", info)
    routes.get("/events", events)
    routes.get("/system/df", disk_usage)
    routes.post("/auth", auth)
