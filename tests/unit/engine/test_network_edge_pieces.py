"""The network pieces of pyctl and the containers domain that need no daemon: -p/--dns/...
flags into the request, ps's PORTS and port's lines (docker's grouping), the options a
container:NAME or host network refuses, --expose's keys and inspect's NetworkSettings shape."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pyengine.api.containers_lean import PortMapping
from pyengine.cli import container_opts
from pyengine.cli.context import CliError
from pyengine.cli.ports_view import displayable, port_lines
from pyengine.containers import networking
from pyengine.containers.model import RUNNING, Container, Spec, State
from pyengine.errors import InvalidArgument


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    container_opts.add(parser)
    return parser.parse_args([*argv, "busybox"])


def test_network_flags_reach_the_request() -> None:
    r = container_opts.request(_args(
        "--net", "mynet", "-p", "8080:80", "--publish", "53:53/udp", "-P", "--expose", "90",
        "--ip", "10.1.0.9", "--net-alias", "db", "--network-alias", "cache",
        "--dns", "10.0.0.2", "--dns-search", "example.test", "--dns-option", "ndots:2",
        "--add-host", "h1:10.0.0.5", "--add-host", "h2=10.0.0.6", "--link", "web:w",
        "--mac-address", "02:42:0a:01:00:09"))
    assert (r.network, list(r.publish), r.publish_all, list(r.expose)) == (
        "mynet", ["8080:80", "53:53/udp"], True, ["90"])
    assert (r.ip, list(r.network_aliases), list(r.dns), list(r.dns_search),
            list(r.dns_options)) == ("10.1.0.9", ["db", "cache"], ["10.0.0.2"],
                                     ["example.test"], ["ndots:2"])
    assert (list(r.add_hosts), list(r.links), r.mac_address) == (
        ["h1:10.0.0.5", "h2:10.0.0.6"], ["web:w"], "02:42:0a:01:00:09")


@pytest.mark.parametrize(("argv", "message"), [
    (("--dns", "x"), 'invalid argument "x" for "--dns" flag: x is not an ip address'),
    (("--add-host", "nohost"),
     'invalid argument "nohost" for "--add-host" flag: bad format for add-host: "nohost"'),
    (("--add-host", "h:notip"),
     'invalid argument "h:notip" for "--add-host" flag: invalid IP address in add-host: '
     '"notip"'),
    (("--mac-address", "zz"), 'invalid argument "zz" for "--mac-address" flag: zz is not a '
                              'valid mac address'),
    (("--link", "a:b:c"), 'invalid argument "a:b:c" for "--link" flag: bad format for links: '
                          'a:b:c'),
    (("-p", "80:abc"), "invalid containerPort: abc"),
])
def test_bad_network_flags_are_usage_errors(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(CliError) as caught:
        container_opts.request(_args(*argv))
    assert str(caught.value) == message
    assert caught.value.usage


def _port(ip: str, private: int, public: int, kind: str = "tcp") -> PortMapping:
    return PortMapping(ip=ip, private_port=private, public_port=public, type=kind)


def test_ps_ports_are_docker_s() -> None:
    assert displayable([]) == ""
    assert displayable([_port("0.0.0.0", 80, 8080)]) == "0.0.0.0:8080->80/tcp"
    assert displayable([_port("", 443, 0), _port("0.0.0.0", 80, 8080)]) == \
        "443/tcp, 0.0.0.0:8080->80/tcp"
    # the same number on both sides: grouped into ranges as docker does
    assert displayable([_port("0.0.0.0", 81, 81), _port("0.0.0.0", 80, 80),
                        _port("", 53, 0, "udp"), _port("", 54, 0, "udp")]) == \
        "53-54/udp, 0.0.0.0:80-81->80-81/tcp"


def test_port_lines_are_sorted_and_skip_unpublished() -> None:
    ports = [_port("0.0.0.0", 53, 40000, "udp"), _port("", 443, 0),
             _port("127.0.0.1", 80, 8080)]
    assert port_lines(ports) == [("53/udp", "0.0.0.0:40000"), ("80/tcp", "127.0.0.1:8080")]


@pytest.mark.parametrize(("spec", "message"), [
    (Spec(network="container:a", publish=["80"]),
     "conflicting options: port publishing and the container type network mode"),
    (Spec(network="container:a", dns=["1.1.1.1"]),
     "conflicting options: dns and the network mode"),
    (Spec(network="container:a", hostname="h"),
     "conflicting options: hostname and the network mode"),
    (Spec(network="container:a", links=["b"]),
     "conflicting options: container type network can't be used with links. This would "
     "result in undefined behavior"),
    (Spec(network="host", links=["b"]),
     "conflicting options: host type networking can't be used with links. This would "
     "result in undefined behavior"),
])
def test_shared_namespaces_refuse_what_docker_refuses(spec: Spec, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        networking.check_modes(spec)
    assert str(caught.value) == message


def test_exposed_ports_merge_the_image_s_and_expose() -> None:
    section = {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}
    assert networking.exposed_ports(
        section, Spec(expose=["80", "8000-8001/tcp"], publish=["9000:90/udp"])) == \
        ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "90/udp"]
    with pytest.raises(InvalidArgument, match="invalid range format for --expose: x"):
        networking.exposed_ports({}, Spec(expose=["x"]))


def test_inspect_network_settings_have_docker_s_shape(tmp_path: Path) -> None:
    from pyengine.network.model import EndpointView, NetworkSettings
    from pyengine.network.model import PortMapping as Mapped

    c = Container(id="a" * 64, name="web", image_id="sha256:x", image_name="busybox",
                  snapshot="s", created="", spec=Spec(links=["db:d"]),
                  state=State(status=RUNNING, pid=42),
                  config={"exposed": ["80/tcp", "443/tcp"]})
    settings = NetworkSettings(
        networks={"bridge": EndpointView("n1", "e1", "172.17.0.2", 16, "172.17.0.1",
                                         "02:42:ac:11:00:02", ())},
        ports=[Mapped(80, "tcp", "0.0.0.0", 8080)], sandbox_key="/proc/42/ns/net")
    doc = networking.inspect_document(c, settings, tmp_path)
    ns = doc["NetworkSettings"]
    assert (ns["IPAddress"], ns["IPPrefixLen"], ns["Gateway"], ns["MacAddress"]) == (
        "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02")
    assert ns["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                           "443/tcp": None}
    assert ns["Networks"]["bridge"]["Links"] is None  # docker 20.10's, links or not
    assert doc["HostConfig"]["Links"] == ["/db:/web/d"]
    assert ns["SandboxKey"] == "/proc/42/ns/net"
    assert doc["HostConfig"]["NetworkMode"] == "default"
    assert doc["Config"]["ExposedPorts"] == {"80/tcp": {}, "443/tcp": {}}


def test_network_ls_rows_are_docker_s() -> None:
    from pyengine.api.networks_lean import NetworkSummary
    from pyengine.cli.verb_network_ls import created_at, row

    assert created_at("2026-12-06T02:44:57.484924986Z") == \
        "2026-12-06 02:44:57.484924986 +0000 UTC"
    n = NetworkSummary(id="ab" * 32, name="front", driver="bridge", scope="local",
                       internal=True, created="2026-12-06T02:44:57Z", labels={"b": "2", "a": "1"})
    r = row(n, no_trunc=False)
    assert (r["ID"], r["Internal"], r["IPv6"], r["Labels"], r["Label"]("b")) == (
        "ab" * 6, "true", "false", "a=1,b=2", "2")


def test_network_modes_as_the_domain_names_them() -> None:
    assert [networking.mode_of(Spec(network=n)) for n in ("", "default", "bridge", "none",
                                                           "front", "container:a")] == \
        ["bridge", "bridge", "bridge", "none", "front", "container:a"]
    assert networking.shared_target(Spec(network="container:web")) == "web"
    assert networking.bundle_network(Spec(network="host")) == "host"
    assert networking.bundle_network(Spec(network="container:web")) == "private"


def test_ps_filters_network_publish_and_expose() -> None:
    from pyengine.containers import list_filters

    def make(cid: str, spec: Spec, exposed: list[str]) -> Container:
        return Container(id=cid * 64, name=cid, image_id="sha256:x", image_name="busybox",
                         snapshot=cid, created="", spec=spec, state=State(status=RUNNING),
                         config={"exposed": exposed})

    a = make("a", Spec(network="front", publish=["8080:80"]), ["80/tcp", "443/tcp"])
    b = make("b", Spec(publish_all=True), ["53/udp"])
    nets = {a.id: {"front": "f" * 64}, b.id: {"bridge": "b" * 64}}

    def chosen(*items: str) -> list[str]:
        return [c.name for c in list_filters.select(
            [a, b], list_filters.parse(list(items)), False, {}, lambda c: nets[c.id])]

    assert chosen("network=front") == ["a"]
    assert chosen("network=" + "b" * 12) == ["b"]
    assert chosen("network=nosuch") == []
    assert chosen("publish=80") == ["a"]
    assert chosen("publish=53/udp") == ["b"]  # -P publishes every exposed port
    assert chosen("expose=443") == ["a"]
    assert chosen("expose=440-450") == ["a"]


def test_ps_label_filters_must_all_match() -> None:
    """dockerd's label filters are all required (docker-compose lists a service's containers
    with its project, service and one-off labels together); other keys' values alternate."""
    from pyengine.containers import list_filters

    def make(cid: str, labels: dict[str, str]) -> Container:
        return Container(id=cid * 64, name=cid, image_id="sha256:x", image_name="busybox",
                         snapshot=cid, created="", spec=Spec(labels=labels),
                         state=State(status=RUNNING))

    a = make("a", {"project": "p", "oneoff": "False"})
    b = make("b", {"project": "p", "oneoff": "True"})

    def chosen(*items: str) -> list[str]:
        return [c.name for c in list_filters.select([a, b], list_filters.parse(list(items)),
                                                    False, {})]

    assert chosen("label=project=p") == ["a", "b"]
    assert chosen("label=project=p", "label=oneoff=False") == ["a"]
    assert chosen("label=project=q", "label=oneoff=False") == []
    assert chosen("id=a", "id=b") == ["a", "b"]
