"""docker ps: the containers a listing shows (its filters, before/since resolved), and each
one's columns as docker words them (COMMAND, STATUS, the State a paused container has), with
its ports, networks and, on request, its sizes. Both edges (gRPC and REST) list through here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyengine.containers import health, list_filters
from pyengine.containers.model import RUNNING, Container
from pyengine.containers.sizes import container_sizes
from pyengine.images.inspect import parse_time
from pyengine.store.read_cache import from_memory
from pyengine.units import human_duration

if TYPE_CHECKING:
    from pyengine.containers.networking import Published
    from pyengine.containers.service import ContainerService
    from pyengine.services.workers import Workers


@dataclass
class Listed:
    """One container of a listing and what the listing shows of it beyond its record."""

    container: Container
    published: list[Published]
    networks: dict[str, Any]  # name -> docker's EndpointSettings document
    size_rw: int = 0
    size_root_fs: int = 0
    link_names: list[str] = field(default_factory=list)  # "/PARENT/ALIAS": its legacy links'


def link_names(found: list[Container]) -> dict[str, list[str]]:
    """id -> the names docker's list gives a container as the target of legacy links (the
    default bridge's: "/PARENT/ALIAS"), targets named as --link named them (a name or an
    id)."""
    from pyengine.containers.networking import mode_of, split_link

    by_name = {c.name: c.id for c in found}
    out: dict[str, list[str]] = {}
    for c in found:
        if mode_of(c.spec) != "bridge":
            continue  # (on a user network a link is a name its DNS answers, not a name here)
        for item in c.spec.links:
            target, alias = split_link(item)
            tid = by_name.get(target) or next((o.id for o in found if o.id.startswith(target)),
                                              "")
            if tid:
                out.setdefault(tid, []).append(f"/{c.name}/{alias}")
    return out


def _since(stamp: str) -> float:
    if not stamp:
        return 0.0
    return time.time() - parse_time(stamp)


def status_text(c: Container) -> str:
    s = c.state
    if s.status == RUNNING:
        up = f"Up {human_duration(_since(s.started_at))}"
        if s.paused:
            return f"{up} (Paused)"
        return f"{up} ({health.status_line(s)})" if s.health_status else up
    if s.status == "exited":
        word = "Restarting" if s.restarting else "Exited"
        return f"{word} ({s.exit_code}) {human_duration(_since(s.finished_at))} ago"
    if s.status == "created":
        return "Created"
    if s.status == "removing":
        return "Removal In Progress"
    return s.status.capitalize()


def state_text(c: Container) -> str:
    """docker's State: "paused" and "restarting" too (State.docker_status)."""
    return c.state.docker_status()


def list_command(args: list[str]) -> str:
    """docker's COMMAND of a listed container: the path, then each argument, in single quotes
    when it holds a space (docker ps: "sh -c 'echo out1; e…")."""
    if not args:
        return ""
    return " ".join([args[0], *(f"'{a}'" if " " in a else a for a in args[1:])])


def labels_of(c: Container) -> dict[str, str]:
    return {**c.config.get("image_labels", {}), **c.spec.labels}


async def list_containers(service: ContainerService, workers: Workers, filters: list[str],
                          all_: bool, size: bool, limit: int = 0) -> list[Listed]:
    """docker ps --filter KEY=VALUE ... [-a] [-s] [-n N]: newest first."""
    parsed = list_filters.parse(filters)
    refs = [*parsed.values.get("before", []), *parsed.values.get("since", [])]
    networks_of = service.networking.network_ids if parsed.has("network") else None

    def listed() -> list[Listed]:
        """From the repositories' read caches on the loop when they hold it all (no write
        since the last listing); else one trip to the pool (read_cache.from_memory)."""
        resolved = {ref: service.resolve(ref) for ref in refs}
        found = service.all()  # after: holds what was resolved
        shown = list_filters.select(found, parsed, all_ or limit > 0, resolved, networks_of)
        if limit > 0:
            shown = shown[:limit]
        linked = link_names(found) if any(c.spec.links for c in found) else {}
        return [Listed(c, service.networking.published(c), service.networking.endpoints(c),
                       link_names=linked.get(c.id, [])) for c in shown]

    out = await from_memory(workers, listed)
    if size:
        for item in out:
            item.size_rw, item.size_root_fs = await workers.run(container_sizes, service,
                                                                item.container)
    return out
