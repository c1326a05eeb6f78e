"""docker's create body -> the domain's Spec (dockerapi/container_config.py)."""

from __future__ import annotations

import pytest
from pyengine.dockerapi.container_config import from_body, mount_spec, publish_specs
from pyengine.errors import InvalidArgument


def test_a_docker_py_style_body() -> None:
    asked = from_body({
        "Image": "busybox", "Cmd": "sh", "Entrypoint": [""], "Env": ["A=1"],
        "Labels": {"k": "v"}, "Tty": True, "OpenStdin": True, "StopTimeout": 0,
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        "Healthcheck": {"Test": ["NONE"]},
        "HostConfig": {
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                             "53/udp": [{"HostIp": "", "HostPort": ""}],
                             "81/tcp": [{"HostPort": "9000"}]},
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
            "NetworkMode": "default", "Privileged": False, "MemorySwappiness": None,
            "IpcMode": "", "PidMode": "", "CgroupnsMode": "private"},
    })
    spec = asked.spec
    assert asked.warnings == []
    assert (spec.cmd, spec.entrypoint, spec.env, spec.labels) == (["sh"], [], ["A=1"],
                                                                  {"k": "v"})
    assert (spec.tty, spec.open_stdin, spec.stop_timeout) == (True, True, 0)
    assert spec.expose == ["80/tcp", "53/udp"]
    assert spec.no_healthcheck
    assert spec.publish == ["127.0.0.1:8080:80/tcp", "53/udp", "9000:81/tcp"]
    assert spec.restart == "on-failure:3"
    assert (spec.log_max_size, spec.log_max_file) == (10 << 20, 3)
    assert spec.network == ""


def test_compose_sends_binds_and_volumes_for_one_path() -> None:
    spec = from_body({"Image": "x", "Volumes": {"/data": {}, "/anon": {}, "/m": {}},
                      "HostConfig": {"Binds": ["/srv/data:/data:rw"],
                                     "Mounts": [{"Type": "volume", "Source": "v",
                                                 "Target": "/m", "ReadOnly": True,
                                                 "VolumeOptions": {"NoCopy": True}}],
                                     "Tmpfs": {"/run": "size=1m"}}}).spec
    assert spec.binds == ["/srv/data:/data:rw", "/anon"]
    assert spec.mounts == ["type=volume,source=v,target=/m,readonly,volume-nocopy"]
    assert spec.tmpfs == ["/run:size=1m"]


def test_networking_config() -> None:
    spec = from_body({"Image": "x", "HostConfig": {"NetworkMode": "app_default",
                                                    "Links": ["db:database"]},
                      "NetworkingConfig": {"EndpointsConfig": {"app_default": {
                          "IPAMConfig": {"IPv4Address": "10.5.0.9"},
                          "Aliases": ["web"], "Links": ["cache:c"]}}}}).spec
    assert (spec.network, spec.ip, spec.network_aliases) == ("app_default", "10.5.0.9",
                                                             ["web"])
    assert (spec.links, spec.endpoint_links) == (["db:database"], ["cache:c"])  # HostConfig's
    # and the endpoint's, apart (inspect shows each where it was given, as dockerd)
    only_endpoint = from_body({"Image": "x", "NetworkingConfig": {"EndpointsConfig": {
        "net1": {"Aliases": ["a"]}}}}).spec
    assert only_endpoint.network == "net1"
    assert from_body({"Image": "x", "NetworkDisabled": True}).spec.network == "none"


@pytest.mark.parametrize(("body", "message"), [
    ({}, "Config cannot be empty in order to create a container"),
    ({"Image": "x", "HostConfig": {"UsernsMode": "host"}}, "HostConfig.UsernsMode"),
    ({"Image": "x", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": "1"}]}},
     "cannot unmarshal str"),
    ({"Image": "x", "HostConfig": {"LogConfig": {"Type": "syslog"}}},
     "pyengined does not support the syslog log driver"),
    ({"Image": "x", "HostConfig": {"LogConfig": {"Type": "bogus"}}},
     'error looking up logging plugin bogus: plugin "bogus" not found'),
    ({"Image": "x", "HostConfig": {"PidMode": 1}}, "field HostConfig.PidMode of type string"),
    ({"Image": "x", "HostConfig": {"LogConfig": {"Config": {"tag": "x"}}}},
     "unknown log opt 'tag' for json-file log driver"),
    ({"Image": "x", "NetworkingConfig": {"EndpointsConfig": {"a": {}, "b": {}}}},
     "Container cannot be connected to network endpoints: a, b"),
    ({"Image": "x", "Cmd": 5}, "cannot unmarshal int"),
    ({"Image": "x", "HostConfig": {"Mounts": [{"Type": "bind", "Source": "/x"}]}},
     "Target must not be empty"),
])
def test_refusals(body: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        from_body(body)


def test_tuning_is_a_warning() -> None:
    asked = from_body({"Image": "x", "Domainname": "example.org",
                       "HostConfig": {"KernelMemory": 1 << 20, "MemorySwappiness": -1}})
    assert asked.warnings == [
        "pyengined does not support HostConfig.KernelMemory: it was ignored",
        "pyengined does not support Config.Domainname: it was ignored"]


def test_privileges_devices_and_kernel_options_reach_the_spec() -> None:
    spec = from_body({"Image": "x", "HostConfig": {
        "Privileged": True, "CapAdd": ["NET_ADMIN"], "CapDrop": ["CAP_CHOWN"],
        "SecurityOpt": ["no-new-privileges", "seccomp=unconfined"],
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "",
                     "CgroupPermissions": ""},
                    {"PathOnHost": "/dev/null", "PathInContainer": "/dev/n",
                     "CgroupPermissions": "r"}],
        "Sysctls": {"net.ipv4.ip_forward": "1"},
        "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
        "ShmSize": 1 << 20, "OomScoreAdj": 500, "IpcMode": "shareable"}}).spec
    assert (spec.privileged, spec.cap_add, spec.cap_drop) == (True, ["NET_ADMIN"],
                                                              ["CAP_CHOWN"])
    assert spec.security_opt == ["no-new-privileges", "seccomp=unconfined"]
    assert spec.devices == ["/dev/fuse:/dev/fuse:rwm", "/dev/null:/dev/n:r"]
    assert (spec.sysctls, spec.ulimits) == ({"net.ipv4.ip_forward": "1"},
                                            ["nofile=1024:2048"])
    assert (spec.shm_size, spec.oom_score_adj, spec.ipc_mode) == (1 << 20, 500, "shareable")


def test_helpers() -> None:
    assert publish_specs({"80": None}) == ["80/tcp"]
    assert mount_spec({"Type": "tmpfs", "Target": "/t",
                       "TmpfsOptions": {"SizeBytes": 1024, "Mode": 0o1777}}) == \
        "type=tmpfs,target=/t,tmpfs-size=1024,tmpfs-mode=1777"
