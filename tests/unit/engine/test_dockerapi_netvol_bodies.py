"""docker's network create/connect bodies and filters as the REST edge reads them (no daemon)."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pyengine.dockerapi.networks import endpoint_config, network_create
from pyengine.dockerapi.query import filter_items, flag
from pyengine.errors import InvalidArgument, NotFound
from pyengine.network.model import PoolRequest


def test_the_docker_clis_create_body_becomes_the_domains_arguments() -> None:
    body = {"Name": "back", "CheckDuplicate": True, "Driver": "bridge", "Scope": "",
            "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": {}, "Config": [
                {"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.128/25", "Gateway": "10.1.0.1"}]},
            "Internal": True, "Attachable": False, "Ingress": False, "ConfigOnly": False,
            "ConfigFrom": None, "Options": {"com.docker.network.driver.mtu": "1400"},
            "Labels": {"tier": "db"}}
    spec = network_create(body)
    assert (spec.name, spec.driver, spec.subnet, spec.ip_range, spec.gateway, spec.internal) \
        == ("back", "bridge", "10.1.0.0/24", "10.1.0.128/25", "10.1.0.1", True)
    assert spec.labels == {"tier": "db"}
    assert spec.options == {"com.docker.network.driver.mtu": "1400"}
    assert spec.ipam_options == {} and (spec.ipv6, spec.pool6, spec.aux) == (False, None, {})
    bare = network_create({"Name": "x", "IPAM": None, "Labels": None})
    assert (bare.driver, bare.subnet, bare.labels) == ("bridge", "", {})
    assert bare.ipam_options is None  # docker's null: not given


def test_an_ipv6_create_body_with_auxiliary_addresses_and_ipam_options() -> None:
    spec = network_create({"Name": "six", "EnableIPv6": True, "IPAM": {
        "Driver": "default", "Options": {"k": "v"}, "Config": [
            {"Subnet": "fd00:1::/64", "IPRange": "fd00:1::/96", "Gateway": "fd00:1::ffff",
             "AuxiliaryAddresses": {"r": "fd00:1::9"}},
            {"Subnet": "10.1.0.0/24", "AuxiliaryAddresses": {"a": "10.1.0.5"}}]}})
    assert spec.ipv6 and spec.ipam_options == {"k": "v"}
    assert (spec.subnet, spec.aux) == ("10.1.0.0/24", {"a": "10.1.0.5"})
    assert spec.pool6 == PoolRequest("fd00:1::/64", "fd00:1::ffff", "fd00:1::/96",
                                     {"r": "fd00:1::9"})


@pytest.mark.parametrize(("body", "error", "text"), [
    ({"Ingress": True}, InvalidArgument, "swarm"),
    ({"ConfigFrom": {"Network": "base"}}, InvalidArgument, "configuration-only"),
    ({"Scope": "swarm"}, InvalidArgument, "only local"),
    ({"IPAM": {"Driver": "weave"}}, NotFound, 'plugin "weave" not found'),
    ({"IPAM": {"Config": [{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}]}},
     InvalidArgument, "one pool per address family"),
    ({"IPAM": {"Config": [{"Subnet": "fd00:1::/64"}, {"Subnet": "fd00:2::/64"}]}},
     InvalidArgument, "one pool per address family"),
    ({"Labels": ["a"]}, InvalidArgument, "Labels"),
])
def test_what_the_daemon_has_not_is_refused_by_name(body: dict, error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        network_create({"Name": "n", **body})


def test_a_connects_endpoint_config() -> None:
    config = endpoint_config({"Container": "c", "EndpointConfig": {
        "IPAMConfig": {"IPv4Address": "10.1.0.9"}, "Aliases": ["www"], "Links": ["db:data"],
        "DriverOpts": None, "MacAddress": ""}})
    assert (config.ip, config.aliases, config.links) == ("10.1.0.9", ["www"], ["db:data"])
    empty = endpoint_config({"Container": "c", "EndpointConfig": {"IPAMConfig": None,
                                                                  "Aliases": None}})
    assert (empty.ip, empty.aliases, empty.links) == ("", [], [])
    assert (empty.ip6, empty.link_local, empty.mac, empty.driver_opts) == ("", [], "", {})
    full = endpoint_config({"EndpointConfig": {
        "IPAMConfig": {"IPv6Address": "fd00::2", "LinkLocalIPs": ["169.254.8.8"]},
        "MacAddress": "02:42:ac:11:00:99", "DriverOpts": {"k": "v"}}})
    assert (full.ip6, full.link_local, full.mac, full.driver_opts) == (
        "fd00::2", ["169.254.8.8"], "02:42:ac:11:00:99", {"k": "v"})
    with pytest.raises(InvalidArgument, match="Aliases"):
        endpoint_config({"EndpointConfig": {"Aliases": "www"}})


def _request(query: str) -> web.Request:
    return make_mocked_request("GET", f"/networks?{query}")


def test_filters_in_both_of_dockers_encodings() -> None:
    new = urllib.parse.quote(json.dumps({"label": {"a=b": True, "c": True, "off": False},
                                         "name": {"x": True}}))
    assert sorted(filter_items(_request(f"filters={new}"))) == ["label=a=b", "label=c", "name=x"]
    old = urllib.parse.quote(json.dumps({"dangling": ["true"]}))
    assert filter_items(_request(f"filters={old}")) == ["dangling=true"]
    assert filter_items(_request("")) == []
    for bad in ("notjson", urllib.parse.quote("[1]")):
        with pytest.raises(InvalidArgument, match="invalid filter"):
            filter_items(_request(f"filters={bad}"))


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("true", True), ("True", True), ("0", False), ("false", False),
    ("no", False), ("none", False), ("", False)])
def test_flags_as_docker_reads_them(value: str, expected: bool) -> None:
    assert flag(_request(f"force={value}"), "force") is expected
