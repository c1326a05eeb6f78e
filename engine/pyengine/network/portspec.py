"""docker's -p/--publish, --expose and -P, parsed into PortBinding values with docker's errors.

The grammar is docker's (its CLI validates before it talks to a daemon; the texts below were
read from docker 28's `docker create -p BAD`): ``[ip:][hostPort[-hostEnd]:]containerPort[-end]
[/proto]``, and the long form ``published=8080,target=80[,protocol=udp]``. Container and host
ranges of the same length pair up; a host range with one container port means "any free port
of the range" (PortBinding.host_port_end); a container range without host ports takes one
ephemeral host port each. Only tcp and udp are supported here: sctp gets a clear error instead
of docker's acceptance. An IPv6 host address ("[::1]:8080:80") is accepted as dockerd 20.10
accepts it (its userland proxy serves it; ours is network/userland_proxy.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from pyengine.errors import InvalidArgument

ANY_IP = "0.0.0.0"
PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class PortBinding:
    """One container port published on the host. host_ip "0.0.0.0" is every local address;
    host_port 0 asks for a free ephemeral port; host_port_end (0: none) makes host_port..
    host_port_end a range to take the first free port of. ip_given: the user named the host
    IP (dockerd then binds that address alone; an unnamed one gets "::" as well)."""

    host_ip: str
    host_port: int
    container_port: int
    proto: str
    host_port_end: int = 0
    ip_given: bool = False

    @property
    def key(self) -> str:
        """docker's name of the container port: "80/tcp"."""
        return f"{self.container_port}/{self.proto}"


def parse_publish(specs: Sequence[str]) -> list[PortBinding]:
    """Every -p of a container, ranges expanded, in order; InvalidArgument with docker's text."""
    out: list[PortBinding] = []
    for spec in specs:
        out.extend(parse_one(_standard_notation(spec)))
    return out


def parse_expose(specs: Sequence[str]) -> list[str]:
    """--expose values (port, range, optional /proto) as docker's keys ("80/tcp"), expanded,
    without duplicates, in order."""
    keys: list[str] = []
    for spec in specs:
        if ":" in spec:
            raise InvalidArgument(f"invalid port format for --expose: {spec}")
        proto, port = split_proto_port(spec)
        try:
            start, end = parse_port_range(port)
        except ValueError as e:
            raise InvalidArgument(
                f"invalid range format for --expose: {spec}, error: {e}") from None
        proto = _check_proto(proto or "tcp")
        for number in range(start, end + 1):
            key = f"{number}/{proto}"
            if key not in keys:
                keys.append(key)
    return keys


def exposed_bindings(exposed: Sequence[str]) -> list[PortBinding]:
    """-P: every exposed port ("80/tcp", "80" meaning tcp) on a free ephemeral host port of
    every local address."""
    out: list[PortBinding] = []
    for key in exposed:
        proto, port = split_proto_port(key)
        try:
            number, end = parse_port_range(port)
        except ValueError as e:
            raise InvalidArgument(f"invalid exposed port {key}: {e}") from None
        if end != number:
            raise InvalidArgument(f"invalid exposed port {key}: a range")
        out.append(PortBinding(ANY_IP, 0, number, _check_proto(proto or "tcp")))
    return out


def parse_one(raw: str) -> list[PortBinding]:
    """One -p value in docker's short notation (docker's order of checks and texts)."""
    ip, host_port, container_port = _split_parts(raw)
    proto, container_port = split_proto_port(container_port)
    if ip.startswith("["):
        if "]" not in ip:
            raise InvalidArgument(f"invalid IP address {ip}: address {ip}:: missing ']' in "
                                  "address")
        ip = ip[1:ip.index("]")]
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(f"invalid IP address: {ip}") from None
    if not container_port:
        raise InvalidArgument(f"no port specified: {raw}<empty>")
    try:
        start, end = parse_port_range(container_port)
    except ValueError:
        raise InvalidArgument(f"invalid containerPort: {container_port}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = parse_port_range(host_port)
        except ValueError:
            raise InvalidArgument(f"invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise InvalidArgument("invalid ranges specified for container and host Ports: "
                                  f"{container_port} and {host_port}")
    proto = _check_proto(proto)
    host_ip = ip or ANY_IP
    if start == end:
        return [PortBinding(host_ip, host_start, start, proto,
                            host_end if host_end != host_start else 0, bool(ip))]
    return [PortBinding(host_ip, host_start + i if host_port else 0, start + i, proto, 0,
                        bool(ip)) for i in range(end - start + 1)]


def split_proto_port(raw: str) -> tuple[str, str]:
    """docker's SplitProtoPort: "80/udp" -> ("udp", "80"); no or empty proto -> "tcp"; a third
    part is ignored."""
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1 or not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def parse_port_range(ports: str) -> tuple[int, int]:
    """docker's ParsePortRange: "80" or "80-90" (a third part is ignored); ValueError with
    Go's strconv texts, which docker shows for --expose."""
    if not ports:
        raise ValueError("empty string specified for ports")
    if "-" not in ports:
        number = _port(ports)
        return number, number
    parts = ports.split("-")
    start, end = _port(parts[0]), _port(parts[1])
    if end < start:
        raise ValueError(f"invalid range specified for port: {ports}")
    return start, end


def _port(text: str) -> int:
    """Go's strconv.ParseUint(text, 10, 16)."""
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    number = int(text)
    if number > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return number


def _check_proto(proto: str) -> str:
    lowered = proto.lower()
    if lowered == "sctp":
        raise InvalidArgument(f"unsupported protocol: {proto}: only tcp and udp ports can be "
                              "published")
    if lowered not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    return lowered


def _split_parts(raw: str) -> tuple[str, str, str]:
    """docker's splitParts: the container port is after the last colon, the host port before
    it, the IP is all before that."""
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _standard_notation(spec: str) -> str:
    """The long form "published=8080,target=80,protocol=udp" as docker's CLI rewrites it."""
    if "=" not in spec:
        return spec
    params = {"protocol": "tcp"}
    for param in spec.split(","):
        name, sep, value = param.partition("=")
        if not sep or not name:
            raise InvalidArgument(
                f"invalid publish opts format (should be name=value but got '{param}')")
        params[name] = value
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"
