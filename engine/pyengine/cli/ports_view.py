"""docker's text of a container's ports: ps's PORTS column ("0.0.0.0:8080->80/tcp, 443/tcp",
consecutive ports grouped into ranges) and port's lines ("80/tcp -> 0.0.0.0:8080")."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path (ps is hot)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyengine.api.containers_lean import PortMapping


def _key(p: PortMapping) -> tuple[int, str, int, str]:
    return (p.private_port, p.ip, p.public_port, p.type)


def _group(key: str, first: int, last: int) -> str:
    ip, _, kind = key.rpartition("/")
    span = str(first) if first == last else f"{first}-{last}"
    if ip:
        span = f"{ip}:{span}->{span}"
    return f"{span}/{kind}"


def displayable(ports: Sequence[PortMapping]) -> str:
    """ps's PORTS: ports published on the same number and unpublished ones grouped into
    ranges per address and protocol, then the other mappings one by one."""
    groups: dict[str, list[int]] = {}  # key -> [first, last], in first-seen order
    out: list[str] = []
    mappings: list[str] = []
    for p in sorted(ports, key=_key):
        key = p.type
        if p.ip:
            if p.public_port != p.private_port:
                mappings.append(f"{_host(p.ip, p.public_port)}->{p.private_port}/{p.type}")
                continue
            key = f"{p.ip}/{p.type}"
        group = groups.get(key)
        if group is None:
            groups[key] = [p.private_port, p.private_port]
        elif p.private_port == group[1] + 1:
            group[1] = p.private_port
        else:
            out.append(_group(key, group[0], group[1]))
            groups[key] = [p.private_port, p.private_port]
    out += [_group(key, first, last) for key, (first, last) in groups.items()]
    return ", ".join(out + mappings)


def _host(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def port_lines(ports: Sequence[PortMapping]) -> list[tuple[str, str]]:
    """port's lines, sorted: ("80/tcp", "0.0.0.0:8080")."""
    return [(f"{p.private_port}/{p.type}", _host(p.ip, p.public_port))
            for p in sorted(ports, key=_key) if p.public_port]
