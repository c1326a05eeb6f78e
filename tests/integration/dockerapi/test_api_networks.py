"""/networks through the REST edge: the docker CLI 28 (create/ls/inspect/rm/connect/
disconnect/prune, run --network --network-alias), docker-py 7 and raw HTTP for docker's
statuses and texts (checked against a private dockerd 20.10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from netvol_harness import NetVol, nv_fixture  # noqa: F401 - a fixture

pytestmark = [pytest.mark.root]

SLEEP = ["sleep", "1000"]


def resolves(nv: NetVol, client: str, name: str) -> list[str]:
    """The A records container `client` gets for `name` (busybox nslookup through its
    resolv.conf: the embedded DNS on a user network); [] when it does not resolve."""
    result = nv.pyctl("exec", client, "nslookup", "-type=a", name)
    text = result.stdout.decode()
    if result.returncode != 0 or f"Name:\t{name}" not in text:
        return []
    answer = text.split(f"Name:\t{name}", 1)[1]
    return [line.split()[-1] for line in answer.splitlines() if line.startswith("Address")]


def test_cli_create_list_inspect_remove_with_docker_texts(nv: NetVol) -> None:
    created = nv.docker("network", "create", "--subnet", "10.77.0.0/24", "--gateway",
                            "10.77.0.254", "--ip-range", "10.77.0.128/25", "--internal",
                            "--label", "tier=db", "--opt", "com.docker.network.driver.mtu=1400",
                            "back", check=True).stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", created)
    nv.docker("network", "create", "--label", "tier=web", "front", check=True)
    doc = nv.docker_json("network", "inspect", "back")[0]
    assert doc["Id"] == created and doc["Name"] == "back" and doc["Driver"] == "bridge"
    assert doc["Scope"] == "local" and doc["Internal"] is True and doc["EnableIPv6"] is False
    assert doc["IPAM"]["Driver"] == "default"
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254",
                                      "IPRange": "10.77.0.128/25"}]
    assert doc["Labels"] == {"tier": "db"} and doc["Containers"] == {}
    assert doc["Options"]["com.docker.network.driver.mtu"] == "1400"
    # the gRPC edge's document is the same one
    assert nv.docker("network", "inspect", "-f", "{{.Internal}} {{.IPAM.Config}}",
                         "back", check=True).stdout.decode().strip() == \
        "true [{10.77.0.0/24 10.77.0.128/25 10.77.0.254 map[]}]"

    def names(*flags: str) -> list[str]:
        out = nv.docker("network", "ls", *flags, "--format", "{{.Name}}", check=True)
        return sorted(out.stdout.decode().split())

    assert names() == ["back", "bridge", "front", "host", "none"]
    assert names("--filter", "label=tier=db") == ["back"]
    assert names("--filter", "label=tier") == ["back", "front"]
    assert names("--filter", "type=custom") == ["back", "front"]
    assert names("--filter", "type=builtin") == ["bridge", "host", "none"]
    assert names("--filter", "driver=null") == ["none"]
    assert names("--filter", "name=ron") == ["front"]
    assert names("--filter", f"id={created[:10]}") == ["back"]
    assert names("--filter", "dangling=true") == ["back", "front"]
    assert names("--filter", "scope=local") == ["back", "bridge", "front", "host", "none"]
    listed = nv.docker("network", "ls", "--filter", "name=back", "--format",
                           "{{.ID}} {{.Driver}} {{.Scope}}", check=True).stdout.decode()
    assert listed.split() == [created[:12], "bridge", "local"]
    bad = nv.docker("network", "ls", "--filter", "colour=red")
    assert bad.returncode == 1
    assert "Error response from daemon: Invalid filter 'colour'" in bad.stderr.decode()

    again = nv.docker("network", "create", "back")
    assert again.returncode == 1
    assert "Error response from daemon: network with name back already exists" in \
        again.stderr.decode()
    builtin = nv.docker("network", "rm", "bridge")
    assert builtin.returncode == 1
    assert "bridge is a pre-defined network and cannot be removed" in builtin.stderr.decode()
    assert nv.docker("network", "rm", "back", "front", check=True).stdout.decode() \
        .split() == ["back", "front"]
    gone = nv.docker("network", "inspect", "back")
    assert gone.returncode == 1 and "network back not found" in gone.stderr.decode()
    assert names("--filter", "type=custom") == []


def test_cli_connect_with_ip_and_alias_resolves_from_another_container(
        nv: NetVol) -> None:
    nv.docker("network", "create", "--subnet", "10.78.0.0/24", "app", check=True)
    nv.run("-d", "--name", "web", "busybox", *SLEEP)
    nv.run("-d", "--name", "probe", "--network", "app", "busybox", *SLEEP)
    nv.docker("network", "connect", "--ip", "10.78.0.50", "--alias", "www", "app", "web",
                  check=True)
    members = nv.docker_json("network", "inspect", "app")[0]["Containers"]
    web = nv.docker("inspect", "-f", "{{.Id}}", "web", check=True).stdout.decode().strip()
    assert members[web]["Name"] == "web"
    assert members[web]["IPv4Address"] == "10.78.0.50/24"
    assert resolves(nv, "probe", "www") == ["10.78.0.50"]
    assert resolves(nv, "probe", "web") == ["10.78.0.50"]
    # connected twice, a network that is not there, a container that is not there
    twice = nv.docker("network", "connect", "app", "web")
    assert twice.returncode == 1 and "Error response from daemon" in twice.stderr.decode()
    nonet = nv.docker("network", "connect", "nosuchnet", "web")
    assert nonet.returncode == 1 and "network nosuchnet not found" in nonet.stderr.decode()
    in_use = nv.docker("network", "rm", "app")
    assert in_use.returncode == 1
    assert "has active endpoints" in in_use.stderr.decode()

    nv.docker("network", "disconnect", "app", "web", check=True)
    assert web not in nv.docker_json("network", "inspect", "app")[0]["Containers"]
    assert resolves(nv, "probe", "www") == []
    again = nv.docker("network", "disconnect", "app", "web")
    assert again.returncode == 1
    assert "is not connected to network app" in again.stderr.decode()
    forced = nv.docker("network", "disconnect", "--force", "app", "nosuchcontainer")
    assert forced.returncode == 1  # docker 20.10: no endpoint of that name either
    assert "endpoint nosuchcontainer not found" in forced.stderr.decode()


def test_run_with_network_and_alias_resolves_from_another_container(nv: NetVol) -> None:
    """`docker run --network NAME --network-alias x`: the alias answers on that network's
    embedded DNS, and the network's inspect lists the container."""
    nv.docker("network", "create", "--label", "app=shop", "shop", check=True)
    web = nv.run("-d", "--name", "web", "--network", "shop", "--network-alias", "store",
                 "busybox", *SLEEP).strip()
    nv.run("-d", "--name", "probe", "--network", "shop", "busybox", *SLEEP)
    members = nv.docker_json("network", "inspect", "shop")[0]["Containers"]
    assert members[web]["Name"] == "web"
    address = members[web]["IPv4Address"].split("/")[0]
    assert resolves(nv, "probe", "store") == [address]
    assert resolves(nv, "probe", "web") == [address]
    dangling = nv.docker("network", "ls", "-q", "--filter", "dangling=true", check=True)
    assert dangling.stdout.decode().split() == []
    nv.docker("rm", "-f", "web", "probe", check=True)
    dangling = nv.docker("network", "ls", "--filter", "dangling=true", "--format",
                         "{{.Name}}", check=True)
    assert dangling.stdout.decode().split() == ["shop"]


def test_a_user_networks_aliases_get_the_short_id_once_it_joins(nv: NetVol) -> None:
    """dockerd 20.10: a container's endpoint on a user network has its short id among its
    Aliases from its first start on (after an exit too); before, only the aliases asked."""
    nv.docker("network", "create", "aliased", check=True)
    cid = nv.docker("create", "--name", "al", "--network", "aliased", "--network-alias",
                    "foo", "busybox", *SLEEP, check=True).stdout.decode().strip()

    def aliases() -> list[str]:
        doc = nv.docker_json("inspect", "al")[0]
        return list(doc["NetworkSettings"]["Networks"]["aliased"]["Aliases"] or [])

    assert aliases() == ["foo"]
    nv.docker("start", "al", check=True)
    assert aliases() == ["foo", cid[:12]]
    nv.docker("stop", "-t", "0", "al", check=True)
    nv.docker("start", "al", check=True)  # once
    assert aliases() == ["foo", cid[:12]]
    nv.docker("rm", "-f", "al", check=True)


def test_cli_prune_by_label_and_until(nv: NetVol) -> None:
    for name, label in (("old1", "keep=no"), ("old2", "keep=no"), ("kept", "keep=yes")):
        nv.docker("network", "create", "--label", label, name, check=True)
    nv.run("-d", "--name", "user", "--network", "old2", "busybox", *SLEEP)
    out = nv.docker("network", "prune", "-f", "--filter", "label=keep=no", check=True)
    assert out.stdout.decode().split() == ["Deleted", "Networks:", "old1"]
    # until: created before a time in the past: none
    out = nv.docker("network", "prune", "-f", "--filter", "until=2000-01-01T00:00:00Z",
                        check=True)
    assert out.stdout.decode().strip() == ""
    left = nv.docker("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}",
                         check=True)
    assert sorted(left.stdout.decode().split()) == ["kept", "old2"]
    bad = nv.docker("network", "prune", "-f", "--filter", "driver=bridge")
    assert bad.returncode == 1 and "Invalid filter 'driver'" in bad.stderr.decode()


def test_http_statuses_and_bodies(nv: NetVol) -> None:
    status, body = nv.http("POST", "/v1.41/networks/create", {
        "Name": "raw", "CheckDuplicate": True, "Driver": "bridge", "Labels": {"a": "b"},
        "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.79.0.0/24"}], "Options": {}}})
    assert status == 201 and set(body) == {"Id", "Warning"} and body["Warning"] == ""
    raw = body["Id"]
    assert nv.http("POST", "/networks/create", {"Name": "raw"}) == \
        (409, {"message": "network with name raw already exists"})
    for name in ("bridge", "host", "none", "default"):  # dockerd 20.10's text, its space too
        assert nv.http("POST", "/networks/create", {"Name": name}) == \
            (403, {"message": f"operation is not permitted on predefined {name} network "})
    assert nv.http("POST", "/networks/create", {"Name": "six", "EnableIPv6": True}) == (
        404, {"message": "could not find an available, non-overlapping IPv6 address pool "
                         "among the defaults to assign to the network"})  # dockerd 20.10's
    status, body = nv.http("POST", "/networks/create", {"Name": "two", "IPAM": {
        "Config": [{"Subnet": "10.80.0.0/24"}, {"Subnet": "10.81.0.0/24"}]}})
    assert status == 400 and "one pool per address family" in body["message"]
    assert nv.http("POST", "/networks/create", {"Name": " "}) == \
        (400, {"message": "invalid name:  "})  # dockerd's text (its status: 500)
    status, body = nv.http("POST", "/networks/create", {"Name": "plug", "Driver": "weave"})
    assert status == 404 and body == {"message": 'plugin "weave" not found'}
    status, body = nv.http("POST", "/networks/create", {"Name": "x", "IPAM": {
        "Config": [{"Gateway": "10.80.0.1"}]}})
    assert status == 400
    assert nv.http("DELETE", "/networks/bridge") == \
        (403, {"message": "bridge is a pre-defined network and cannot be removed"})
    assert nv.http("GET", "/networks/nosuch") == \
        (404, {"message": "network nosuch not found"})
    assert nv.http("DELETE", "/networks/nosuch")[0] == 404
    status, listed = nv.http("GET", '/networks?filters={"name":{"raw":true}}')
    assert status == 200 and [n["Id"] for n in listed] == [raw]
    status, listed = nv.http("GET", '/v1.41/networks?filters={"label":["a=b"]}')
    assert [n["Name"] for n in listed] == ["raw"]
    assert nv.http("GET", "/networks?filters=notjson")[0] == 400
    doc = nv.http("GET", f"/networks/{raw[:12]}?verbose=true&scope=local")[1]
    assert doc["Id"] == raw
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.79.0.0/24"}]  # dockerd 20.10: no Gateway
    assert nv.http("GET", f"/networks/{raw}?scope=swarm")[0] == 404

    nv.run("-d", "--name", "member", "--network", "raw", "busybox", *SLEEP)
    member = nv.docker("inspect", "-f", "{{.Id}}", "member", check=True).stdout.decode().strip()
    _, listed = nv.http("GET", '/networks?filters={"name":{"raw":true}}')
    assert listed[0]["Containers"] == {}  # docker's list (API >= 1.28): no containers
    _, listed = nv.http("GET", '/v1.27/networks?filters={"name":{"raw":true}}')
    assert set(listed[0]["Containers"]) == {member}
    assert set(nv.http("GET", "/networks/raw")[1]["Containers"]) == {member}
    status, body = nv.http("DELETE", "/networks/raw")
    assert status == 403 and "has active endpoints" in body["message"]
    assert nv.http("POST", "/networks/raw/connect", {}) == \
        (400, {"message": 'invalid name or ID supplied: ""'})
    assert nv.http("POST", "/networks/raw/connect", {"Container": "nosuch"}) == \
        (404, {"message": "No such container: nosuch"})
    status, body = nv.http("POST", "/networks/raw/connect", {
        "Container": "member", "EndpointConfig": {"IPAMConfig": {"IPv6Address": "fd00::5"}}})
    assert status == 400 and "network raw has no IPv6" in body["message"]
    assert nv.http("POST", "/networks/raw/disconnect", {"Container": "member"}) == \
        (200, None)
    assert nv.http("POST", "/networks/raw/disconnect", {"Container": "nosuch"})[0] == 404
    assert nv.http("POST", "/networks/raw/disconnect",
                       {"Container": "nosuch", "Force": True}) == \
        (404, {"message": "endpoint nosuch not found"})
    assert nv.http("POST", "/networks/prune") == (200, {"NetworksDeleted": ["raw"]})
    assert nv.http("POST", "/networks/prune") == (200, {"NetworksDeleted": None})
    assert nv.http("DELETE", f"/networks/{raw}")[0] == 404


def test_docker_py_networks(nv: NetVol) -> None:
    import docker
    from docker.types import IPAMConfig, IPAMPool

    client = nv.client()
    try:
        net = client.networks.create(
            "pynet", driver="bridge", check_duplicate=True, labels={"made": "by-docker-py"},
            ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.82.0.0/24",
                                                   gateway="10.82.0.1")]))
        assert client.networks.get("pynet").id == net.id
        assert [n.name for n in client.networks.list(names=["pynet"])] == ["pynet"]
        assert [n.id for n in client.networks.list(filters={"label": "made"})] == [net.id]
        assert net.attrs["IPAM"]["Config"] == [{"Subnet": "10.82.0.0/24",
                                                "Gateway": "10.82.0.1"}]
        nv.run("-d", "--name", "pyc", "busybox", *SLEEP)
        net.connect("pyc", ipv4_address="10.82.0.9", aliases=["pyalias"])
        net.reload()
        (member,) = net.attrs["Containers"].values()
        assert member["Name"] == "pyc" and member["IPv4Address"] == "10.82.0.9/24"
        net.disconnect("pyc")
        net.reload()
        assert net.attrs["Containers"] == {}
        net.remove()
        with pytest.raises(docker.errors.NotFound, match="network pynet not found"):
            client.networks.get("pynet")
        with pytest.raises(docker.errors.APIError) as refused:
            client.networks.get("bridge").remove()
        assert refused.value.status_code == 403
    finally:
        client.close()


def _ipv6_here() -> bool:
    """Whether the kernel has IPv6 (the daemon's namespace gets it then)."""
    return Path("/proc/sys/net/ipv6").is_dir()


def test_ipv6_network_addresses_routes_and_hosts(nv: NetVol) -> None:
    """`network create --ipv6 --subnet fd00:77::/64` as dockerd 20.10 makes it: an IPv4 pool
    picked beside the IPv6 one, the IPv6 gateway (::1) on the bridge, each container an IPv6
    address (--ip6 honoured), the IPv6 default route and a hosts line; containers reach each
    other over IPv6."""
    made = nv.docker("network", "create", "--ipv6", "--subnet", "fd00:77::/64", "six")
    if not _ipv6_here():  # the bridge cannot get its IPv6 gateway: refused, nothing kept
        assert made.returncode == 1 and "Error response from daemon" in made.stderr.decode()
        assert nv.docker("network", "inspect", "six").returncode == 1
        return
    assert made.returncode == 0, made.stderr
    doc = nv.docker_json("network", "inspect", "six")[0]
    assert doc["EnableIPv6"] is True and doc["IPAM"]["Options"] == {}  # as the CLI sent it
    v4, v6 = doc["IPAM"]["Config"]
    assert set(v4) == {"Subnet", "Gateway"} and v6 == {"Subnet": "fd00:77::/64"}
    a = nv.run("-d", "--name", "v6a", "--network", "six", "--ip6", "fd00:77::f00d", "busybox",
               *SLEEP).strip()
    nv.run("-d", "--name", "v6b", "--network", "six", "busybox", *SLEEP)
    settings = nv.docker_json("inspect", "v6a")[0]["NetworkSettings"]["Networks"]["six"]
    assert settings["IPAMConfig"] == {"IPv6Address": "fd00:77::f00d"}
    assert (settings["GlobalIPv6Address"], settings["GlobalIPv6PrefixLen"],
            settings["IPv6Gateway"]) == ("fd00:77::f00d", 64, "fd00:77::1")
    b6 = nv.docker_json("inspect", "v6b")[0]["NetworkSettings"]["Networks"]["six"]
    assert b6["GlobalIPv6Address"] == "fd00:77::2" and b6["IPAMConfig"] is None
    assert nv.docker_json("network", "inspect", "six")[0]["Containers"][a]["IPv6Address"] \
        == "fd00:77::f00d/64"
    assert "inet6 fd00:77::f00d/64" in nv.out("exec", "v6a", "ip", "addr", "show", "eth0")
    assert "default via fd00:77::1 dev eth0" in nv.out("exec", "v6a", "ip", "-6", "route")
    hosts = nv.out("exec", "v6a", "cat", "/etc/hosts")
    assert hosts.endswith(f"\t{a[:12]}\nfd00:77::f00d\t{a[:12]}\n")
    pinged = nv.pyctl("exec", "v6b", "ping", "-c", "1", "-W", "5", "fd00:77::f00d")
    assert pinged.returncode == 0, pinged.stdout


def test_auxiliary_addresses_link_local_ips_mac_and_driver_opts(nv: NetVol) -> None:
    """IPAM AuxiliaryAddresses are never handed out; an endpoint's LinkLocalIPs are added to
    its interface, its MacAddress (asked at connect) is the interface's, its DriverOpts are
    kept and shown, as dockerd 20.10 does."""
    nv.docker("network", "create", "--subnet", "172.28.0.0/16", "--ip-range",
              "172.28.5.0/24", "--gateway", "172.28.5.254", "--aux-address", "a=172.28.5.0",
              "--aux-address", "b=172.28.5.1", "aux", check=True)
    config = nv.docker_json("network", "inspect", "aux")[0]["IPAM"]["Config"]
    assert config[0]["AuxiliaryAddresses"] == {"a": "172.28.5.0", "b": "172.28.5.1"}
    nv.run("-d", "--name", "first", "--network", "aux", "busybox", *SLEEP)
    first = nv.docker_json("inspect", "first")[0]["NetworkSettings"]["Networks"]["aux"]
    assert first["IPAddress"] == "172.28.5.2"
    client = nv.client()
    try:
        api = client.api
        made = api.create_container(
            "busybox", SLEEP, host_config=api.create_host_config(network_mode="bridge"),
            networking_config=api.create_networking_config({
                "bridge": api.create_endpoint_config(
                    link_local_ips=["169.254.8.8"], driver_opt={"com.docker-py.setting": "on"})
            }))
        api.connect_container_to_network(made, "aux", mac_address="02:42:ac:11:00:99")
        stopped = api.inspect_container(made)["NetworkSettings"]["Networks"]
        assert stopped["aux"]["MacAddress"] == "02:42:ac:11:00:99"
        api.start(made)
        networks = api.inspect_container(made)["NetworkSettings"]["Networks"]
        assert networks["bridge"]["IPAMConfig"] == {"LinkLocalIPs": ["169.254.8.8"]}
        assert networks["bridge"]["DriverOpts"] == {"com.docker-py.setting": "on"}
        assert networks["aux"]["MacAddress"] == "02:42:ac:11:00:99"
        assert networks["aux"]["IPAddress"] == "172.28.5.3"  # after first's, no aux one
        cid = made["Id"]
    finally:
        client.close()
    eth0 = nv.out("exec", cid, "ip", "addr", "show", "eth0")
    assert "inet 169.254.8.8/16" in eth0
    assert "link/ether 02:42:ac:11:00:99" in nv.out("exec", cid, "ip", "link", "show", "eth1")
    status, body = nv.http("POST", "/containers/create", {
        "Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"bridge": {
            "IPAMConfig": {"LinkLocalIPs": ["10.0.0.1"]}}}}})
    assert status == 400 and "invalid link-local IP address 10.0.0.1" in body["message"]


def test_links_on_user_networks_names_and_forced_disconnects(nv: NetVol) -> None:
    """A link on a user network (EndpointConfig.Links, at create or connect) is a name only
    its container resolves, to its target's address (the target may come later); network
    names are any non-blank text (a space, a slash); a forced disconnect of a container that
    is not connected fails as dockerd 20.10's does."""
    nv.docker("network", "create", "nl", check=True)
    client = nv.client()
    try:
        api = client.api
        made = api.create_container(
            "busybox", SLEEP, host_config=api.create_host_config(network_mode="nl"),
            networking_config=api.create_networking_config({
                "nl": api.create_endpoint_config(links=[("upstream", "bar")])}))
        api.start(made)
        nv.run("-d", "--name", "upstream", "--network", "nl", "busybox", *SLEEP)
        nv.run("-d", "--name", "other", "--network", "nl", "busybox", *SLEEP)
        api.disconnect_container_from_network("other", "nl")
        api.connect_container_to_network("other", "nl", links=[("upstream", "baz")])
        nets = api.inspect_container(made)["NetworkSettings"]["Networks"]
        assert nets["nl"]["Links"] == ["upstream:bar"]
        assert api.inspect_container(made)["HostConfig"]["Links"] is None  # dockerd's
        assert api.inspect_container("other")["NetworkSettings"]["Networks"]["nl"][
            "Links"] == ["upstream:baz"]
        cid = made["Id"]
    finally:
        client.close()
    upstream = nv.docker_json("inspect", "upstream")[0]["NetworkSettings"]["Networks"]["nl"]
    assert resolves(nv, cid, "bar") == [upstream["IPAddress"]]
    assert resolves(nv, "other", "baz") == [upstream["IPAddress"]]
    assert resolves(nv, "other", "bar") == []
    for name in ("test 01", "a/b"):
        nv.docker("network", "create", name, check=True)
        assert nv.docker_json("network", "inspect", name)[0]["Name"] == name
        assert nv.http("GET", "/networks/" + name.replace(" ", "%20"))[1]["Name"] == name
        assert nv.http("DELETE", "/networks/" + name.replace(" ", "%20")) == (204, None)
    nv.docker("network", "disconnect", "--force", "nl", "other", check=True)
    again = nv.docker("network", "disconnect", "--force", "nl", "other")
    assert again.returncode == 1
    assert "is not connected to network nl" in again.stderr.decode()


def test_a_legacy_link_is_listed_and_removed_by_its_name(nv: NetVol) -> None:
    """`docker rm --link PARENT/ALIAS` (DELETE /containers/PARENT/ALIAS?link=1) forgets the
    parent's link; both containers stay; the list names a link's target /PARENT/ALIAS while
    the link is there (dockerd 20.10's answers)."""
    nv.run("-d", "--name", "lt1", "busybox", *SLEEP)
    nv.run("-d", "--name", "lt2", "--link", "lt1:mylink", "busybox", *SLEEP)

    def names() -> dict[str, list[str]]:
        listed = nv.http("GET", "/containers/json?all=1")[1]
        return {entry["Names"][0]: entry["Names"] for entry in listed}

    assert names()["/lt1"] == ["/lt1", "/lt2/mylink"]

    def hosts_names() -> list[str]:
        hosts = nv.docker("exec", "lt2", "cat", "/etc/hosts", check=True).stdout.decode()
        return [name for line in hosts.splitlines() for name in line.split()[1:]]

    assert "mylink" in hosts_names()
    nv.docker("rm", "--link", "lt2/mylink", check=True)
    assert "mylink" not in hosts_names() and "lt1" not in hosts_names()  # dockerd's rewrite
    assert names() == {"/lt1": ["/lt1"], "/lt2": ["/lt2"]}
    assert nv.docker_json("inspect", "lt2")[0]["HostConfig"]["Links"] is None
    assert nv.docker("inspect", "-f", "{{.State.Running}}", "lt1", "lt2",
                     check=True).stdout.decode().split() == ["true", "true"]
    assert nv.http("DELETE", "/containers/lt2/mylink?link=1") == \
        (404, {"message": "No such container: lt2/mylink"})
    assert nv.http("DELETE", "/containers/nosuch/mylink?link=1") == \
        (404, {"message": "No such container: nosuch/mylink"})
    assert nv.http("DELETE", "/containers/lt1?link=1") == (409, {
        "message": "Conflict, cannot remove the default link name of the container"})


def test_pyctl_gets_the_same_pools_and_endpoint_settings(nv: NetVol) -> None:
    """The gRPC edge (pyctl network create/connect) has docker's flags for them: --ipv6,
    subnets of both families with their gateways, ranges and aux addresses matched by
    containment, --ipam-opt; connect's --ip6, --link-local-ip and --driver-opt."""
    if not _ipv6_here():
        return  # (the IPv6 side: test_ipv6_network_addresses_routes_and_hosts)
    nv.pyctl("network", "create", "--ipv6", "--subnet", "fd00:78::/64", "--subnet",
             "10.88.0.0/24", "--gateway", "fd00:78::ffff", "--aux-address", "r=10.88.0.2",
             "--aux-address", "r6=fd00:78::2", "--ipam-opt", "k=v", "pysix", check=True)
    doc = nv.docker_json("network", "inspect", "pysix")[0]
    assert doc["EnableIPv6"] is True and doc["IPAM"]["Options"] == {"k": "v"}
    assert doc["IPAM"]["Config"] == [
        {"Subnet": "10.88.0.0/24", "AuxiliaryAddresses": {"r": "10.88.0.2"}},
        {"Subnet": "fd00:78::/64", "Gateway": "fd00:78::ffff",
         "AuxiliaryAddresses": {"r6": "fd00:78::2"}}]
    assert nv.out("network", "ls", "--filter", "name=pysix", "--format",
                  "{{.Name}} {{.IPv6}}").strip() == "pysix true"
    bad = nv.pyctl("network", "create", "--subnet", "10.89.0.0/24", "--gateway",
                   "10.90.0.1", "nomatch")
    assert bad.returncode != 0 and b"no matching subnet for gateway 10.90.0.1" in bad.stderr
    nv.run("-d", "--name", "pyc6", "busybox", *SLEEP)
    nv.pyctl("network", "connect", "--ip6", "fd00:78::9", "--link-local-ip", "169.254.9.9",
             "--driver-opt", "x=y", "pysix", "pyc6", check=True)
    net = nv.docker_json("inspect", "pyc6")[0]["NetworkSettings"]["Networks"]["pysix"]
    assert net["IPAMConfig"] == {"IPv6Address": "fd00:78::9", "LinkLocalIPs": ["169.254.9.9"]}
    assert (net["GlobalIPv6Address"], net["IPAddress"], net["DriverOpts"]) == \
        ("fd00:78::9", "10.88.0.3", {"x": "y"})  # .1 the gateway, .2 an aux address
    eth1 = nv.out("exec", "pyc6", "ip", "addr", "show", "eth1")
    assert "inet6 fd00:78::9/64" in eth1 and "inet 169.254.9.9/16" in eth1
    nv.pyctl("run", "-d", "--name", "pyrun6", "--network", "pysix", "--ip6", "fd00:78::7",
             "--link-local-ip", "169.254.7.7", "busybox", *SLEEP, check=True)
    net = nv.docker_json("inspect", "pyrun6")[0]["NetworkSettings"]["Networks"]["pysix"]
    assert net["IPAMConfig"] == {"IPv6Address": "fd00:78::7", "LinkLocalIPs": ["169.254.7.7"]}
    assert net["GlobalIPv6Address"] == "fd00:78::7"
