"""Classic docker --link (default bridge only): the environment a container gets for each
container it links to, and the /etc/hosts line naming the target.

Names as docker 20.10 makes them (daemon/links): for `--link db:redis` on container web,
REDIS_NAME=/web/redis, REDIS_PORT=tcp://IP:PORT (the lowest exposed port, tcp before udp),
REDIS_PORT_6379_TCP=tcp://IP:6379 with _ADDR, _PORT and _PROTO, _START/_END variables for
runs of three or more consecutive ports, and REDIS_ENV_<VAR> for the target's configured
environment except HOME and PATH."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class LinkLike(Protocol):
    """What a link needs of its target (network.model.LinkTarget has these fields)."""

    @property
    def alias(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def env(self) -> tuple[str, ...]: ...
    @property
    def exposed(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class _Port:
    number: int
    proto: str


_HIDDEN_ENV = ("HOME", "PATH")  # set by image builds; not the linked service's settings


def _ports(exposed: tuple[str, ...]) -> list[_Port]:
    """"80/tcp", "53/udp", "8080" (tcp) -> ports ordered by number, tcp first on a tie."""
    ports = []
    for spec in exposed:
        number, _, proto = spec.partition("/")
        ports.append(_Port(int(number), (proto or "tcp").lower()))
    return sorted(ports, key=lambda p: (p.number, p.proto != "tcp"))


def _run_end(ports: list[_Port], start: int) -> int:
    """The index of the last port of the consecutive run starting at `start` (docker counts
    each following entry as one more number, so a tcp/udp pair of one port continues a run)."""
    value = ports[start].number
    for i in range(start + 1, len(ports)):
        if ports[i].number > value + 1:
            return i - 1
        value += 1
    return len(ports) - 1


def env_prefix(alias: str) -> str:
    """"my-db" -> "MY_DB": the prefix of a link's variables."""
    return alias.rsplit("/", 1)[-1].upper().replace("-", "_")


def link_env(target: LinkLike, ip: str, parent: str) -> list[str]:
    """The variables container `parent` (its name) gets for its link to `target` at `ip`."""
    prefix = env_prefix(target.alias)
    ports = _ports(target.exposed)
    env = []
    if ports:
        env.append(f"{prefix}_PORT={ports[0].proto}://{ip}:{ports[0].number}")
    i = 0
    while i < len(ports):
        first = ports[i]
        j = _run_end(ports, i)
        if j > i + 1:
            last = ports[j]
            key = f"{prefix}_PORT_{first.number}_{first.proto.upper()}"
            env += [f"{key}_START={first.proto}://{ip}:{first.number}", f"{key}_ADDR={ip}",
                    f"{key}_PROTO={first.proto}", f"{key}_PORT_START={first.number}"]
            end_key = f"{prefix}_PORT_{first.number}_{last.proto.upper()}"
            env += [f"{end_key}_END={last.proto}://{ip}:{last.number}",
                    f"{end_key}_PORT_END={last.number}"]
            i = j + 1
        else:
            i += 1
    for port in ports:
        key = f"{prefix}_PORT_{port.number}_{port.proto.upper()}"
        env += [f"{key}={port.proto}://{ip}:{port.number}", f"{key}_ADDR={ip}",
                f"{key}_PORT={port.number}", f"{key}_PROTO={port.proto}"]
    env.append(f"{prefix}_NAME=/{parent.lstrip('/')}/{target.alias}")
    for entry in target.env:
        name, sep, value = entry.partition("=")
        if sep and name not in _HIDDEN_ENV:
            env.append(f"{prefix}_ENV_{name}={value}")
    return _dedupe(env)


def _dedupe(env: list[str]) -> list[str]:
    """One entry per variable, in first-seen order (a run's _ADDR and _PROTO repeat the
    per-port ones), as docker's environment merge leaves them."""
    merged: dict[str, str] = {}
    for entry in env:
        merged[entry.partition("=")[0]] = entry
    return list(merged.values())


def hosts_line(target: LinkLike, ip: str, hostname: str = "") -> str:
    """The parent's /etc/hosts line for a link: `ip\\talias hostname [name]` (the target's
    hostname defaults to its short id; its name is added when it differs from the alias)."""
    name = target.name.lstrip("/")
    names = f"{target.alias} {hostname or target.id[:12]}"
    if target.alias != name:
        names += f" {name}"
    return f"{ip}\t{names}"
