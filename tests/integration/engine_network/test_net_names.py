"""Containers on networks through pyctl and a real pyengined (one per module, in the module's
network namespace): names and aliases through the embedded DNS on user networks, classic
--link on the default bridge, network connect/disconnect of a running container,
--network container:NAME, 100 containers on one bridge with address reuse, bad input refused
without changing anything, and nothing left in the daemon's namespace once all is removed."""

from __future__ import annotations

import ipaddress
import json

import pytest
from ctr_harness import ContainerEngine
from net_harness import HTTPD, inspect, ip_of, link_names

pytestmark = [pytest.mark.root]

SLEEP = ["sleep", "1000"]


def run_d(engine: ContainerEngine, *args: str) -> str:
    return engine.out("run", "-d", *args).strip()


def resolves(engine: ContainerEngine, client: str, name: str) -> list[str]:
    """The A records `client` gets for `name` from its resolver (busybox nslookup reads
    /etc/resolv.conf); [] when the name does not resolve."""
    result = engine.pyctl("exec", client, "nslookup", "-type=a", name)
    if result.returncode != 0:
        return []
    text = result.stdout.decode()
    answer = text.split(f"Name:\t{name}", 1)[-1] if f"Name:\t{name}" in text else ""
    return [line.split()[-1] for line in answer.splitlines() if line.startswith("Address")]


def test_names_and_aliases_resolve_on_a_user_network_until_removed(
        engine: ContainerEngine) -> None:
    engine.out("network", "create", "front")
    run_d(engine, "--name", "web", "--network", "front", "--network-alias", "www",
          "busybox", *HTTPD)
    run_d(engine, "--name", "client", "--net", "front", "busybox", *SLEEP)
    web = ip_of(engine, "web", "front")
    assert resolves(engine, "client", "web") == [web]
    assert resolves(engine, "client", "www") == [web]
    assert engine.pyctl("exec", "client", "ping", "-c1", "-W5", web).returncode == 0
    for host in (web, "web", "www"):  # busybox wget resolves through the libc
        page = engine.out("exec", "client", "wget", "-qO-", f"http://{host}/")
        assert page.startswith("hello from")
    assert sorted(engine.out("ps", "--filter", "network=front", "--format",
                             "{{.Names}} {{.Networks}}").splitlines()) == \
        ["client front", "web front"]
    resolv = engine.out("exec", "client", "cat", "/etc/resolv.conf")
    assert "nameserver 127.0.0.11" in resolv
    engine.out("rm", "-f", "web")
    assert resolves(engine, "client", "web") == []
    assert resolves(engine, "client", "www") == []


def test_links_on_the_default_bridge_give_hosts_and_environment(
        engine: ContainerEngine) -> None:
    run_d(engine, "--name", "db", "--expose", "6379", "-e", "SECRET=s1", "busybox", *SLEEP)
    db = ip_of(engine, "db")
    assert ipaddress.ip_address(db) in ipaddress.ip_network(
        inspect(engine, "db")["NetworkSettings"]["Gateway"] + "/16", strict=False)
    out = engine.out("run", "--rm", "--name", "app", "--link", "db:cache", "busybox", "sh",
                     "-c", "env; echo ---; cat /etc/hosts")
    env, _, hosts = out.partition("---\n")
    assert "CACHE_NAME=/app/cache" in env.splitlines()
    assert f"CACHE_PORT=tcp://{db}:6379" in env.splitlines()
    assert "CACHE_ENV_SECRET=s1" in env.splitlines()
    line = next(entry for entry in hosts.splitlines() if entry.startswith(db))
    assert "cache" in line.split() and "db" in line.split()
    # a link to a container that does not run: docker's error, nothing started
    engine.out("stop", "-t", "0", "db")
    result = engine.pyctl("run", "--rm", "--link", "db:cache", "busybox", "true")
    assert result.returncode != 0
    assert "Cannot link to a non running container: /db AS" in result.stderr.decode()


def test_a_running_container_joins_and_leaves_a_network(engine: ContainerEngine) -> None:
    import time

    since = str(int(time.time()) - 1)
    engine.out("network", "create", "left")
    engine.out("network", "create", "right")
    run_d(engine, "--name", "server", "--network", "left", "busybox", *SLEEP)
    run_d(engine, "--name", "probe", "--network", "right", "busybox", *SLEEP)
    assert resolves(engine, "probe", "server") == []
    engine.out("network", "connect", "--alias", "srv", "right", "server")
    address = ip_of(engine, "server", "right")
    assert set(inspect(engine, "server")["NetworkSettings"]["Networks"]) == {"left", "right"}
    assert resolves(engine, "probe", "server") == [address]
    assert resolves(engine, "probe", "srv") == [address]
    assert engine.pyctl("exec", "probe", "ping", "-c1", "-W5", address).returncode == 0
    engine.out("network", "disconnect", "right", "server")
    assert resolves(engine, "probe", "server") == []
    assert set(inspect(engine, "server")["NetworkSettings"]["Networks"]) == {"left"}
    assert "eth1" not in engine.out("exec", "server", "ip", "-o", "link")
    # docker's events: a network create, then a connect at each start and at connect, a
    # disconnect at disconnect (Actor: the network, attributes: the container, name, type)
    server = inspect(engine, "server")["Id"]
    lines = engine.out("events", "--since", since, "--until", str(int(time.time()) + 1),
                       "--filter", "type=network", "--filter", "event=connect",
                       "--filter", "event=disconnect", "--format",
                       "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} "
                       "{{.Actor.Attributes.container}}").splitlines()
    events = [line.rpartition(" ")[0] for line in lines if line.endswith(server)]
    assert events == ["connect left bridge", "connect right bridge", "disconnect right bridge"]


def test_a_container_shares_the_namespace_of_a_running_one(engine: ContainerEngine) -> None:
    engine.out("network", "create", "shared")
    run_d(engine, "--name", "host1", "--network", "shared", "busybox", *HTTPD)
    page = engine.out("run", "--rm", "--network", "container:host1", "busybox", "sh", "-c",
                      "for i in $(seq 50); do wget -qO- http://127.0.0.1/ && exit 0; "
                      "sleep 0.1; done; exit 1")
    host1 = inspect(engine, "host1")
    assert page.strip() == f"hello from {host1['Config']['Hostname']}"
    # docker's record of it: the target by id, its hostname and /etc files
    run_d(engine, "--name", "guest", "--network", "container:host1", "busybox", *SLEEP)
    guest = inspect(engine, "guest")
    assert guest["HostConfig"]["NetworkMode"] == f"container:{host1['Id']}"
    assert guest["HostsPath"] == host1["HostsPath"]
    assert engine.out("exec", "guest", "hostname").strip() == host1["Config"]["Hostname"]
    assert engine.out("exec", "guest", "cat", "/etc/hosts") == \
        engine.out("exec", "host1", "cat", "/etc/hosts")
    # a joiner's --sysctl net.* goes to the shared namespace, as dockerd's; the daemon's own
    # defaults (unprivileged ports from 0) stay with the namespace's owner
    sysctl = "/proc/sys/net/ipv4/ip_unprivileged_port_start"
    assert engine.out("run", "--rm", "--network", "container:host1", "busybox", "cat",
                      sysctl).strip() == "0"
    assert engine.out("run", "--rm", "--network", "container:host1", "--sysctl",
                      "net.ipv4.ip_unprivileged_port_start=100", "busybox", "cat",
                      sysctl).strip() == "100"
    assert engine.out("exec", "host1", "cat", sysctl).strip() == "100"
    # a target that does not run: the start fails with docker's error
    idle = engine.out("create", "--name", "idle", "busybox", *SLEEP).strip()
    engine.out("create", "--name", "joiner", "--network", "container:idle", "busybox", *SLEEP)
    result = engine.pyctl("start", "joiner")
    assert result.returncode != 0
    assert f"cannot join network of a non running container: {idle}" in result.stderr.decode()
    # options a shared namespace cannot have
    result = engine.pyctl("create", "--network", "container:host1", "-p", "80", "busybox")
    assert "conflicting options: port publishing and the container type network mode" in \
        result.stderr.decode()


def test_a_hundred_containers_on_one_bridge_get_distinct_addresses_that_are_reused(
        engine: ContainerEngine) -> None:
    engine.out("network", "create", "--subnet", "10.77.0.0/24", "many")
    from pyengine.api import containers_pb2, containers_pb2_grpc

    names = [f"m{i}" for i in range(100)]
    with engine.channel() as channel:  # through the API: 100 pyctl processes cost ~10 s
        stub = containers_pb2_grpc.ContainersServiceStub(channel)
        for name in names:
            stub.Create(containers_pb2.CreateContainerRequest(
                name=name, image="busybox", cmd=SLEEP, network="many"))
    engine.out("start", *names)
    docs = json.loads(engine.out("inspect", *names))
    addresses = [d["NetworkSettings"]["Networks"]["many"]["IPAddress"] for d in docs]
    assert len(set(addresses)) == 100
    subnet = ipaddress.ip_network("10.77.0.0/24")
    assert all(ipaddress.ip_address(a) in subnet for a in addresses)
    assert sorted(addresses, key=ipaddress.ip_address)[0] == "10.77.0.2"  # .1: the gateway
    engine.out("rm", "-f", *names[:50])
    freed = {a for d, a in zip(docs, addresses, strict=True) if d["Name"][1:] in names[:50]}
    run_d(engine, "--name", "again", "--network", "many", "busybox", *SLEEP)
    assert ip_of(engine, "again", "many") == min(freed, key=ipaddress.ip_address)
    engine.out("rm", "-f", *names[50:])
    # a stopped container's address goes back too (docker's: held from start to exit)
    engine.out("stop", "-t", "0", "again")
    run_d(engine, "--name", "later", "--network", "many", "busybox", *SLEEP)
    assert ip_of(engine, "later", "many") == "10.77.0.2"


def test_bad_input_gets_a_clear_error_and_changes_nothing(engine: ContainerEngine) -> None:
    engine.out("network", "create", "--subnet", "10.88.0.0/16", "wide")
    networks = engine.out("network", "ls", "-q")
    containers = engine.out("ps", "-aq")
    links = link_names()
    cases = [
        (("network", "create", "--subnet", "10.88.1.0/24", "narrow"), "overlap"),
        (("network", "create", "wide"), "network with name wide already exists"),
        (("run", "-d", "--network", "nosuch", "busybox", *SLEEP), "network nosuch not found"),
        (("run", "-d", "-p", "80:abc", "busybox", *SLEEP), "invalid containerPort: abc"),
        (("run", "-d", "--network", "wide", "--ip", "10.99.0.5", "busybox", *SLEEP),
         "Invalid address 10.99.0.5: It does not belong to any of this network's subnets"),
    ]
    for argv, message in cases:
        result = engine.pyctl(*argv)
        assert result.returncode != 0, argv
        assert message in result.stderr.decode(), (argv, result.stderr.decode())
        assert "Traceback" not in result.stderr.decode()
    assert engine.out("network", "ls", "-q") == networks
    assert engine.out("ps", "-aq") == containers
    assert link_names() == links
    run_d(engine, "--name", "user", "--network", "wide", "busybox", *SLEEP)
    result = engine.pyctl("network", "rm", "wide")
    assert result.returncode != 0
    assert "has active endpoints" in result.stderr.decode()
    assert "wide" in engine.out("network", "ls", "--format", "{{.Name}}").split()


def test_network_verbs_list_inspect_and_prune(engine: ContainerEngine) -> None:
    nid = engine.out("network", "create", "--subnet", "10.44.0.0/24", "--gateway", "10.44.0.254",
                     "--ip-range", "10.44.0.128/25", "--internal", "--label", "team=a",
                     "-o", "com.docker.network.driver.mtu=1400", "lab").strip()
    engine.out("network", "create", "idle1")
    assert engine.out("network", "ls", "--format", "{{.Name}} {{.Driver}}").splitlines() == [
        "bridge bridge", "host host", "idle1 bridge", "lab bridge", "none null"]
    assert engine.out("network", "ls", "-q", "--no-trunc", "-f", "label=team=a") == nid + "\n"
    doc = json.loads(engine.out("network", "inspect", "lab"))[0]
    assert (doc["Id"], doc["Name"], doc["Internal"], doc["Labels"]) == (
        nid, "lab", True, {"team": "a"})
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.44.0.0/24", "IPRange": "10.44.0.128/25",
                                      "Gateway": "10.44.0.254"}]
    run_d(engine, "--name", "member", "--network", "lab", "busybox", *SLEEP)
    assert ip_of(engine, "member", "lab") == "10.44.0.128"  # the range's first address
    containers = json.loads(engine.out("network", "inspect", "lab"))[0]["Containers"]
    assert [c["Name"] for c in containers.values()] == ["member"]
    assert engine.out("network", "inspect", "-f", "{{.Name}}", "lab", "idle1").split() == [
        "lab", "idle1"]
    # prune takes the unused user network only
    assert engine.out("network", "prune", "-f") == "Deleted Networks:\nidle1\n\n"
    assert "lab" in engine.out("network", "ls", "--format", "{{.Name}}").split()


def test_docker_gaps_builtin_modes_removed_networks_and_ip_on_picked_subnets(
        engine: ContainerEngine) -> None:
    # none/host: inspect shows the builtin network, no addresses, and the sandbox key
    for mode in ("none", "host"):
        run_d(engine, "--name", f"m-{mode}", "--network", mode, "busybox", *SLEEP)
        doc = inspect(engine, f"m-{mode}")["NetworkSettings"]
        assert list(doc["Networks"]) == [mode]
        view = doc["Networks"][mode]
        assert (view["IPAddress"], view["Gateway"], view["MacAddress"]) == ("", "", "")
        assert len(view["EndpointID"]) == 64 and doc["SandboxKey"]
    # a network only stopped containers are on can go; their start then fails (docker's)
    engine.out("network", "create", "gone")
    run_d(engine, "--name", "was-on", "--network", "gone", "busybox", *SLEEP)
    engine.out("stop", "-t", "0", "was-on")
    engine.out("network", "rm", "gone")
    result = engine.pyctl("start", "was-on")
    assert result.returncode == 1
    assert "network gone not found" in result.stderr.decode()
    assert "failed to start containers: was-on" in result.stderr.decode()
    # --ip on a network whose subnet the daemon picked: refused when connecting
    engine.out("network", "create", "picked")
    subnet = json.loads(engine.out("network", "inspect", "picked"))[0]["IPAM"]["Config"][0][
        "Subnet"]
    address = str(ipaddress.ip_network(subnet)[50])
    text = "user specified IP address is supported only when connecting to networks with " \
        "user configured subnets"
    result = engine.pyctl("run", "-d", "--name", "fixed", "--network", "picked", "--ip",
                          address, "busybox", *SLEEP)
    assert result.returncode == 125 and text in result.stderr.decode()
    result = engine.pyctl("network", "connect", "--ip", address, "picked", "m-none")
    assert result.returncode == 1 and text in result.stderr.decode()
    assert engine.out("network", "ls", "--filter", "dangling=true", "--format",
                      "{{.Name}}") == "picked\n"
    for argv, message in (
            (("network", "ls", "--filter", "dangling=x"), "invalid value for filter 'dangling'"),
            (("network", "prune", "-f", "--filter", "until=xx"),
             'failed to parse value as time or duration: "xx"')):
        result = engine.pyctl(*argv)
        assert result.returncode == 1
        assert result.stderr.decode() == f"Error response from daemon: {message}" + (
            ', must be "true" (or "1"), or "false" (or "0")\n' if "dangling" in message
            else "\n")
    assert engine.out("network", "prune", "-f", "--filter", "until=1h") == ""
    # docker's ndots rule: an unknown single label is answered empty, not forwarded
    run_d(engine, "--name", "dots", "--network", "picked", "--dns-option", "ndots:1",
          "busybox", *SLEEP)
    run_d(engine, "--name", "nodots", "--network", "picked", "busybox", *SLEEP)
    answered = engine.pyctl("exec", "dots", "nslookup", "-type=a", "nosuch")
    assert answered.returncode == 0 and b"SERVFAIL" not in answered.stdout
    forwarded = engine.pyctl("exec", "nodots", "nslookup", "-type=a", "nosuch")  # nowhere
    assert forwarded.returncode == 1 and b"SERVFAIL" in forwarded.stdout
    engine.out("rm", "-f", "m-none", "m-host", "was-on", "fixed", "dots", "nodots")
    engine.out("network", "rm", "picked")


def test_removing_everything_leaves_no_link_rule_or_address(engine: ContainerEngine) -> None:
    """The daemon's namespace (the module's, this thread's) as captured by the host network
    guard: links, addresses, routes, iptables, sysctls."""
    from tests.fixtures.hostnet import HostNetwork, differences

    engine.out("run", "--rm", "busybox", "true")  # the default bridge is made at first use
    before = HostNetwork.capture()
    engine.out("network", "create", "temp")
    run_d(engine, "--name", "t1", "--network", "temp", "-p", "8099:80", "busybox", *HTTPD)
    run_d(engine, "--name", "t2", "-p", "8098:80/udp", "busybox", *SLEEP)
    engine.out("network", "connect", "temp", "t2")
    during = differences(before, HostNetwork.capture())
    assert any(line.startswith("links: +") for line in during)  # a bridge and veths
    assert any("8099" in line for line in during)  # the DNAT rule
    engine.out("rm", "-f", "t1", "t2")
    engine.out("network", "rm", "temp")
    assert differences(before, HostNetwork.capture()) == []
