"""/etc/hosts, /etc/resolv.conf, /etc/hostname as docker 20.10 writes them. The expected texts
are what a private dockerd 20.10.24 put in containers started with the same options and the
same host resolv.conf (bind-mounted over its /etc/resolv.conf), byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyengine.network.etcfiles import (
    host_mode_hosts,
    host_resolv_path,
    hostname_content,
    hosts_content,
    nameservers,
    read_host_resolv,
    resolv_content,
    write_in_place,
)

DEFAULTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n")

# host resolv.conf files the reference runs used
RC_LOOPBACK = ("# comment\nsearch x.y z.w\nnameserver 127.0.0.1\n\n\nnameserver 127.0.1.1\n"
               "options edns0 timeout:2\nnameserver ::1\n")
RC_V6 = "nameserver 127.0.0.1\nnameserver fd00::53\nsearch x.y\n"
RC_MIXED = "nameserver 10.1.1.1 \nnameserver fd00::53\nsearch x.y\n"
RC_PLAIN = "nameserver 10.255.255.53\n"


def test_hosts_none_network() -> None:
    assert hosts_content("4d4449bfdfc0", "", ()) == DEFAULTS.encode()


def test_hosts_user_network_with_domain_and_add_host() -> None:
    # docker run --network net1 -h web --domainname example.com --add-host db:10.0.0.5
    got = hosts_content("web", "example.com", ["10.77.0.2"], ["db:10.0.0.5"])
    assert got.decode() == DEFAULTS + "10.0.0.5\tdb\n10.77.0.2\tweb.example.com web\n"


def test_hosts_one_line_per_address_links_before_own_lines() -> None:
    got = hosts_content("web", "", ["10.77.0.2", "10.78.0.2"], ["v6:fd00::1"],
                        ["172.17.0.3\tdb 0123456789ab redis"]).decode()
    assert got == DEFAULTS + ("fd00::1\tv6\n172.17.0.3\tdb 0123456789ab redis\n"
                              "10.77.0.2\tweb\n10.78.0.2\tweb\n")
    # a dotted hostname is its own fqdn
    assert hosts_content("a.b.c", "", ["10.0.0.2"]).decode().endswith("10.0.0.2\ta.b.c a\n")


def test_host_mode_hosts() -> None:
    host = b"127.0.0.1 localhost\n127.0.0.1 vm\n"
    assert host_mode_hosts([], host) == host
    assert host_mode_hosts(["db:10.0.0.5"], host).decode() == DEFAULTS + "10.0.0.5\tdb\n"


@pytest.mark.parametrize(("host", "expected"), [
    (RC_PLAIN, RC_PLAIN),
    (RC_LOOPBACK, "# comment\nsearch x.y z.w\noptions edns0 timeout:2\n\n"
                  "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
    (RC_V6, "search x.y\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4"),
    (RC_MIXED, "nameserver 10.1.1.1 \nsearch x.y\n"),
    ("", "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
])
def test_resolv_own_namespace(host: str, expected: str) -> None:
    """--network none (and the default bridge): the host's file filtered."""
    assert resolv_content(False, host_resolv=host).decode() == expected


@pytest.mark.parametrize(("host", "expected"), [
    (RC_PLAIN, "nameserver 127.0.0.11\noptions ndots:0\n"),
    (RC_LOOPBACK, "search x.y z.w\nnameserver 127.0.0.11\noptions edns0 timeout:2 ndots:0\n"),
    (RC_V6, "search x.y\nnameserver 127.0.0.11\noptions ndots:0\n"),
    ("", "nameserver 127.0.0.11\noptions ndots:0\n"),
])
def test_resolv_embedded(host: str, expected: str) -> None:
    assert resolv_content(True, host_resolv=host).decode() == expected


def test_resolv_embedded_with_user_settings() -> None:
    # --dns 1.1.1.1 --dns-search a.b --dns-option edns0
    assert resolv_content(True, ["1.1.1.1"], ["a.b"], ["edns0"], RC_PLAIN).decode() == (
        "search a.b\nnameserver 127.0.0.11\noptions edns0 ndots:0\n")
    # a user's ndots wins over the embedded server's ndots:0
    assert resolv_content(True, (), (), ["ndots:2"], RC_PLAIN).decode() == (
        "nameserver 127.0.0.11\noptions ndots:2\n")
    # --dns-search q.r: the host's nameservers (all of them) go in first; the IPv6 ones stay
    assert resolv_content(True, (), ["q.r"], (), RC_LOOPBACK).decode() == (
        "search q.r\nnameserver 127.0.0.11\nnameserver ::1\noptions edns0 timeout:2 ndots:0\n")
    assert resolv_content(True, (), ["q.r"], (), RC_MIXED).decode() == (
        "search q.r\nnameserver 127.0.0.11\nnameserver fd00::53\noptions ndots:0\n")


def test_resolv_own_namespace_with_user_settings() -> None:
    # --dns 1.1.1.1 --dns-search a.b --dns-option ndots:3
    assert resolv_content(False, ["1.1.1.1"], ["a.b"], ["ndots:3"], RC_PLAIN).decode() == (
        "search a.b\nnameserver 1.1.1.1\noptions ndots:3\n")
    # --dns-option rotate: the host's nameservers as they are, loopback ones included
    assert resolv_content(False, (), (), ["rotate"], RC_LOOPBACK).decode() == (
        "search x.y z.w\nnameserver 127.0.0.1\nnameserver 127.0.1.1\nnameserver ::1\n"
        "options rotate\n")
    assert resolv_content(False, (), (), ["rotate"], RC_MIXED).decode() == (
        "search x.y\nnameserver 10.1.1.1\nnameserver fd00::53\noptions rotate\n")
    # --dns-search . writes no search line
    assert resolv_content(False, ["1.1.1.1"], ["."], ()).decode() == "nameserver 1.1.1.1\n"


def test_resolv_host_mode() -> None:
    assert resolv_content(False, host_resolv=RC_LOOPBACK, host_mode=True).decode() == RC_LOOPBACK
    assert resolv_content(True, ["1.1.1.1"], host_resolv=RC_LOOPBACK,
                          host_mode=True).decode() == (
        "search x.y z.w\nnameserver 1.1.1.1\noptions edns0 timeout:2\n")


def test_nameservers_by_family() -> None:
    text = "nameserver 10.0.0.1 # office\n#nameserver 10.0.0.9\nnameserver fe80::1%eth0\n"
    assert nameservers(text) == ["10.0.0.1", "fe80::1%eth0"]
    assert nameservers(text, "ipv4") == ["10.0.0.1"]
    assert nameservers(text, "ipv6") == ["fe80::1%eth0"]


def test_host_resolv_skips_the_resolved_stub(tmp_path: Path) -> None:
    stub = tmp_path / "resolv.conf"
    stub.write_text("nameserver 127.0.0.53\noptions edns0\n")
    assert str(host_resolv_path(stub)) == "/run/systemd/resolve/resolv.conf"
    stub.write_text("nameserver 127.0.0.53\nnameserver 10.0.0.1\n")
    assert host_resolv_path(stub) == stub
    assert read_host_resolv(tmp_path / "missing") == ""


def test_hostname() -> None:
    assert hostname_content("web") == b"web\n"


def test_write_in_place_keeps_the_inode(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(b"a much longer first content\n")
    before = os.stat(path).st_ino
    with open(path, "rb") as reader:  # a bind mount's view: the same open inode
        write_in_place(path, b"short\n")
        assert reader.read() == b"short\n"
    assert os.stat(path).st_ino == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts"]
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(OSError):
        write_in_place(link, b"x\n")  # never through a symlink
