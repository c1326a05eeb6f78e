"""docker's -p/--expose/-P grammar: ranges, host ranges, the long form, and docker's error texts
(read from docker 28's CLI: `docker create -p BAD busybox` fails before contacting a daemon)."""

from __future__ import annotations

import pytest
from pyengine.errors import InvalidArgument
from pyengine.network.portspec import (
    PortBinding,
    exposed_bindings,
    parse_expose,
    parse_port_range,
    parse_publish,
)


def pb(ip: str, host: int, ctr: int, proto: str = "tcp", end: int = 0,
       given: bool | None = None) -> PortBinding:
    """given (the host IP was named): by default, whether ip is not 0.0.0.0."""
    return PortBinding(ip, host, ctr, proto, end, ip != "0.0.0.0" if given is None else given)


@pytest.mark.parametrize("spec, expected", [
    ("80", [pb("0.0.0.0", 0, 80)]),
    ("8080:80", [pb("0.0.0.0", 8080, 80)]),
    ("127.0.0.1:8080:80", [pb("127.0.0.1", 8080, 80)]),
    ("127.0.0.1::80", [pb("127.0.0.1", 0, 80)]),
    (":80", [pb("0.0.0.0", 0, 80)]),
    ("0:80", [pb("0.0.0.0", 0, 80)]),
    ("0.0.0.0:0:80", [pb("0.0.0.0", 0, 80, given=True)]),
    ("53:53/udp", [pb("0.0.0.0", 53, 53, "udp")]),
    ("80/TCP", [pb("0.0.0.0", 0, 80)]),
    ("80/Udp", [pb("0.0.0.0", 0, 80, "udp")]),
    ("80/", [pb("0.0.0.0", 0, 80)]),
    ("80/tcp/x", [pb("0.0.0.0", 0, 80)]),  # docker ignores a third part
    ("080:80", [pb("0.0.0.0", 80, 80)]),
    ("1-3", [pb("0.0.0.0", 0, 1), pb("0.0.0.0", 0, 2), pb("0.0.0.0", 0, 3)]),
    ("0-0", [pb("0.0.0.0", 0, 0)]),
    ("8080-8081:80-81/udp", [pb("0.0.0.0", 8080, 80, "udp"), pb("0.0.0.0", 8081, 81, "udp")]),
    ("10.0.0.1:8080-8082:80", [pb("10.0.0.1", 8080, 80, end=8082)]),
    ("80-81:90", [pb("0.0.0.0", 80, 90, end=81)]),
    ("1-2-3:80", [pb("0.0.0.0", 1, 80, end=2)]),  # docker ignores a third range part
    ("65535:65535", [pb("0.0.0.0", 65535, 65535)]),
    ("target=80,published=8080", [pb("0.0.0.0", 8080, 80)]),
    ("published=53,target=53,protocol=udp,mode=host", [pb("0.0.0.0", 53, 53, "udp")]),
    ("target=80", [pb("0.0.0.0", 0, 80)]),
])
def test_valid_specs(spec: str, expected: list[PortBinding]) -> None:
    assert parse_publish([spec]) == expected


def test_several_specs_keep_their_order_and_duplicates() -> None:
    # docker keeps a repeated binding; the second then fails as "port is already allocated"
    assert parse_publish(["8080:80", "53/udp", "8080:80"]) == [
        pb("0.0.0.0", 8080, 80), pb("0.0.0.0", 0, 53, "udp"), pb("0.0.0.0", 8080, 80)]
    assert parse_publish([]) == []
    assert parse_publish(["80/udp"])[0].key == "80/udp"


@pytest.mark.parametrize("spec, message", [
    ("x", "invalid containerPort: x"),
    ("a:80", "invalid hostPort: a"),
    ("80:b", "invalid containerPort: b"),
    ("1-3:4-5", "invalid ranges specified for container and host Ports: 4-5 and 1-3"),
    ("8080:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8080"),
    ("80-70:80", "invalid hostPort: 80-70"),
    ("5-3", "invalid containerPort: 5-3"),
    ("80/foo", "invalid proto: foo"),
    ("65536:80", "invalid hostPort: 65536"),
    ("80:65536", "invalid containerPort: 65536"),
    ("99999", "invalid containerPort: 99999"),
    ("1-65536:80", "invalid hostPort: 1-65536"),
    ("1.2.3:80:80", "invalid IP address: 1.2.3"),
    ("x:80:80", "invalid IP address: x"),
    ("8080:80/tcp:x", "invalid IP address: 8080"),
    ("127.0.0.1:8080:80:x", "invalid IP address: 127.0.0.1:8080"),
    ("80:80:80:80", "invalid IP address: 80:80"),
    ("", "no port specified: <empty>"),
    ("80:", "no port specified: 80:<empty>"),
    ("/tcp", "no port specified: /tcp<empty>"),
    ("published=8080", "no port specified: 8080:/tcp<empty>"),
    ("1.2.3.4:80", "invalid hostPort: 1.2.3.4"),
    ("127.0.0.1:80", "invalid hostPort: 127.0.0.1"),
    ("-1:80", "invalid hostPort: -1"),
    ("80-:80", "invalid hostPort: 80-"),
    ("+80", "invalid containerPort: +80"),
    (" 80", "invalid containerPort:  80"),
    ("80 ", "invalid containerPort: 80 "),
    ("[::1:80:80", "invalid IP address [::1: address [::1:: missing ']' in address"),
    ("target=80,x", "invalid publish opts format (should be name=value but got 'x')"),
    # the IP is checked before the ports, the ports before the protocol (docker's order)
    ("x:y:z/foo", "invalid IP address: x"),
    ("a:80/foo", "invalid hostPort: a"),
])
def test_dockers_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_publish(["80", spec])
    assert str(e.value) == message


@pytest.mark.parametrize("spec, ip", [("[::1]:80:80", "::1"), ("::1:80:80", "::1"),
                                      ("fe80::1:80:80", "fe80::1")])
def test_an_ipv6_host_address_is_taken_as_given(spec: str, ip: str) -> None:
    assert parse_publish([spec]) == [PortBinding(ip, 80, 80, "tcp", 0, True)]


def test_only_a_named_host_ip_is_marked_given() -> None:
    """dockerd adds a "::" twin to an unnamed host IP only: -p 0.0.0.0:80:80 binds IPv4."""
    assert [b.ip_given for b in parse_publish(["80:80", "0.0.0.0:81:81", "82"])] == \
        [False, True, False]


@pytest.mark.parametrize("spec", ["80/sctp", "8080:80/SCTP", "target=80,protocol=sctp"])
def test_sctp_is_refused_clearly(spec: str) -> None:
    with pytest.raises(InvalidArgument, match="only tcp and udp ports can be published"):
        parse_publish([spec])


def test_expose() -> None:
    assert parse_expose(["80", "53/udp", "8000-8002", "80/tcp", "81/TCP"]) == [
        "80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp", "81/tcp"]


@pytest.mark.parametrize("spec, message", [
    ("x", 'invalid range format for --expose: x, error: strconv.ParseUint: parsing "x": '
          "invalid syntax"),
    ("80:90", "invalid port format for --expose: 80:90"),
    ("90-80", "invalid range format for --expose: 90-80, error: invalid range specified for "
              "port: 90-80"),
    ("", "invalid range format for --expose: , error: empty string specified for ports"),
    ("80-x", 'invalid range format for --expose: 80-x, error: strconv.ParseUint: parsing "x": '
             "invalid syntax"),
    ("70000", "invalid range format for --expose: 70000, error: strconv.ParseUint: parsing "
              '"70000": value out of range'),
    ("80/foo", "invalid proto: foo"),
])
def test_expose_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_expose([spec])
    assert str(e.value) == message


def test_publish_all_binds_every_exposed_port_to_an_ephemeral_one() -> None:
    assert exposed_bindings(["80/tcp", "53/udp", "6379"]) == [
        pb("0.0.0.0", 0, 80), pb("0.0.0.0", 0, 53, "udp"), pb("0.0.0.0", 0, 6379)]
    with pytest.raises(InvalidArgument, match="only tcp and udp"):
        exposed_bindings(["132/sctp"])
    with pytest.raises(InvalidArgument, match="invalid exposed port x/tcp"):
        exposed_bindings(["x/tcp"])


def test_port_range_is_gos() -> None:
    assert parse_port_range("0") == (0, 0)
    assert parse_port_range("7-7") == (7, 7)
    for bad in ("", "-", "1-", "-1", "²", "0x10", "1_000"):
        with pytest.raises(ValueError):
            parse_port_range(bad)
