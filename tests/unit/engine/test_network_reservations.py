"""Host port reservations on loopback: a held port cannot be bound by anyone else, a taken one
fails with docker's text, port 0 gives an ephemeral port, ranges take the first free port,
TIME_WAIT does not block a reservation, and release lets the port go."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pyengine.errors import FailedPrecondition, InvalidArgument
from pyengine.network.reservations import PortKey, Reservations


@pytest.fixture
def reservations() -> Iterator[Reservations]:
    r = Reservations()
    try:
        yield r
    finally:
        r.release_all()


def bind(ip: str, port: int, kind: int = socket.SOCK_STREAM, reuse: bool = True
         ) -> socket.socket:
    s = socket.socket(socket.AF_INET, kind)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((ip, port))
    except OSError:
        s.close()
        raise
    if kind == socket.SOCK_STREAM:
        s.listen(1)
    return s


def free_run(length: int) -> int:
    """The first port of `length` consecutive ports free on 127.0.0.1 right now."""
    for _ in range(100):
        with bind("127.0.0.1", 0) as probe:
            start = probe.getsockname()[1]
        if start + length > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for p in range(start, start + length):
                held.append(bind("127.0.0.1", p))
            return start
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise AssertionError("no free run of ports")


@pytest.mark.parametrize("proto, kind", [("tcp", socket.SOCK_STREAM),
                                         ("udp", socket.SOCK_DGRAM)])
def test_ephemeral_port_is_held(reservations: Reservations, proto: str, kind: int) -> None:
    port = reservations.reserve("127.0.0.1", 0, proto)
    assert port > 0
    assert reservations.held() == [PortKey("127.0.0.1", port, proto)]
    with pytest.raises(OSError):  # not even with SO_REUSEADDR
        bind("127.0.0.1", port, kind)
    # the same port again is docker's error
    with pytest.raises(FailedPrecondition) as e:
        reservations.reserve("127.0.0.1", port, proto)
    assert str(e.value) == f"Bind for 127.0.0.1:{port} failed: port is already allocated"
    reservations.release("127.0.0.1", port, proto)
    assert reservations.held() == []
    bind("127.0.0.1", port, kind).close()


def test_a_port_taken_by_someone_else_is_dockers_error(reservations: Reservations) -> None:
    with bind("127.0.0.1", 0) as other:
        port = other.getsockname()[1]
        with pytest.raises(FailedPrecondition) as e:
            reservations.reserve("127.0.0.1", port, "tcp")
        assert str(e.value) == f"Bind for 127.0.0.1:{port} failed: port is already allocated"
        # every local address covers 127.0.0.1 too
        with pytest.raises(FailedPrecondition, match=r"Bind for 0\.0\.0\.0:\d+ failed: port is "
                                                     "already allocated"):
            reservations.reserve("", port, "tcp")
        # the other protocol is a different port
        assert reservations.reserve("127.0.0.1", port, "udp") == port
    assert reservations.held() == [PortKey("127.0.0.1", port, "udp")]


def test_any_address_conflicts_with_a_specific_one(reservations: Reservations) -> None:
    port = reservations.reserve("0.0.0.0", 0, "udp")
    with pytest.raises(FailedPrecondition, match="port is already allocated"):
        reservations.reserve("127.0.0.1", port, "udp")
    reservations.release("", port, "udp")  # "" is every address, as 0.0.0.0
    assert reservations.reserve("127.0.0.1", port, "udp") == port


def test_a_range_takes_its_first_free_port(reservations: Reservations) -> None:
    start = free_run(3)
    with bind("127.0.0.1", start):
        assert reservations.reserve("127.0.0.1", start, "tcp", end=start + 2) == start + 1
        assert reservations.reserve("127.0.0.1", start, "tcp", end=start + 2) == start + 2
        with pytest.raises(FailedPrecondition) as e:
            reservations.reserve("127.0.0.1", start, "tcp", end=start + 2)
    assert str(e.value) == \
        f"Bind for 127.0.0.1:{start}-{start + 2} failed: port is already allocated"


def test_time_wait_does_not_block_a_reservation(reservations: Reservations) -> None:
    # a server on the port closes its accepted connection first: that side stays in TIME_WAIT
    server = bind("127.0.0.1", 0)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()
    assert client.recv(1) == b""
    client.close()
    server.close()
    with pytest.raises(OSError):  # without SO_REUSEADDR the TIME_WAIT holds the port
        bind("127.0.0.1", port, reuse=False)
    assert reservations.reserve("127.0.0.1", port, "tcp") == port


def test_bad_requests(reservations: Reservations) -> None:
    with pytest.raises(InvalidArgument, match="not an address of this host"):
        reservations.reserve("192.0.2.1", 0, "tcp")
    with pytest.raises(InvalidArgument, match="unsupported protocol"):
        reservations.reserve("127.0.0.1", 0, "sctp")
    reservations.release("127.0.0.1", 1, "tcp")  # not held: nothing


def test_release_all_given_keys(reservations: Reservations) -> None:
    a = reservations.reserve("127.0.0.1", 0, "tcp")
    b = reservations.reserve("127.0.0.1", 0, "udp")
    reservations.release_all([("127.0.0.1", a, "tcp"), ("127.0.0.1", 9, "udp")])
    assert reservations.held() == [PortKey("127.0.0.1", b, "udp")]
