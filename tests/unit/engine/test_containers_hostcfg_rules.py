"""docker's HostConfig rules without a daemon: device cgroup rules, --group-add, Env entries
without "=", the namespace modes on a bundle config, and the create body's fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyengine.bundles.config import config_env, merge_env
from pyengine.bundles.device_rules import parse_rule
from pyengine.bundles.errors import InvalidContainerConfig, UserNotFound
from pyengine.bundles.user import resolve_user
from pyengine.containers import namespaces
from pyengine.containers.model import Spec
from pyengine.dockerapi.container_config import from_body
from pyengine.errors import InvalidArgument, NotFound


@pytest.mark.parametrize(("rule", "expected"), [
    ("c 1:3 mr", {"allow": True, "type": "c", "access": "mr", "major": 1, "minor": 3}),
    ("a *:* rwm", {"allow": True, "type": "a", "access": "rwm"}),
    ("b 8:* rr", {"allow": True, "type": "b", "access": "r", "major": 8}),
])
def test_device_rules(rule: str, expected: dict) -> None:
    assert parse_rule(rule) == expected


@pytest.mark.parametrize(("rule", "message"), [
    ("x 1:2 r", "invalid device cgroup rule format: 'x 1:2 r'"),
    ("c 1:2", "invalid device cgroup rule format: 'c 1:2'"),
    (" c 1:3 r", "invalid device cgroup rule format: ' c 1:3 r'"),
    ("c 1:3 rwmr", "invalid device cgroup rule format: 'c 1:3 rwmr'"),
    ("c -1:3 r", "invalid device cgroup rule format: 'c -1:3 r'"),
    ("c 1:3 x", "invalid device cgroup rule format: 'c 1:3 x'"),
    ("c 4096:1 r", "invalid major value in device cgroup rule format: 'c 4096:1 r'"),
    ("c 1:1048576 r", "invalid minor value in device cgroup rule format: 'c 1:1048576 r'"),
])
def test_device_rule_refusals(rule: str, message: str) -> None:
    with pytest.raises(InvalidContainerConfig) as caught:
        parse_rule(rule)
    assert str(caught.value) == message


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n"
                                             "app:x:100:100::/home/app:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\napp:x:100:\nvideo:x:44:app\n"
                                            "audio:x:29:\n1000:x:7:\n")
    return tmp_path


def test_group_add(rootfs: Path) -> None:
    # names and numbers: a group's name or gid first, else the number as is; each once
    assert resolve_user(rootfs, "", ["audio", "1000", "29", "4242"]).additional_gids == \
        (0, 29, 7, 4242)
    # after the user's own supplementary groups, as docker lists them
    assert resolve_user(rootfs, "app", ["audio"]).additional_gids == (100, 44, 29)
    with pytest.raises(UserNotFound, match="Unable to find group nosuch: no matching "
                                           "entries in group file"):
        resolve_user(rootfs, "", ["nosuch"])
    for bad in ("-1", "2147483648"):
        with pytest.raises(UserNotFound, match="uids and gids must be in range 0-2147483647"):
            resolve_user(rootfs, "", [bad])


def test_env_without_value() -> None:
    assert merge_env(["PATH=/bin", "HOSTNAME=h"], ["Foo=image"], ["Foo", "PATH", "A=1"]) == \
        {"HOSTNAME": "h", "A": "1"}
    assert config_env(["Foo=image", "B=2", "C"], ["Foo", "Other=one"]) == \
        ["Foo", "Other=one", "B=2", "C"]


def _config() -> dict:
    return {"hostname": "abc", "linux": {"namespaces": [{"type": t} for t in (
        "pid", "ipc", "uts", "mount", "network")]},
        "mounts": [{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                    "options": ["nosuid"]}]}


def _kinds(config: dict) -> list[str]:
    return [ns["type"] for ns in config["linux"]["namespaces"]]


def test_namespace_modes_on_a_bundle(tmp_path: Path) -> None:
    host = _config()
    namespaces.configure(host, Spec(pid_mode="host", uts_mode="host", ipc_mode="host",
                                    cgroupns_mode="host"), tmp_path)
    assert _kinds(host) == ["mount", "network"]
    assert "hostname" not in host
    assert host["mounts"][0]["source"] == "/dev/shm" and host["mounts"][0]["type"] == "bind"
    private = _config()
    namespaces.configure(private, Spec(ipc_mode="none", cgroupns_mode="private"), tmp_path)
    assert _kinds(private) == ["pid", "ipc", "uts", "mount", "network", "cgroup"]
    assert private["mounts"] == []
    shareable = _config()
    namespaces.configure(shareable, Spec(ipc_mode="shareable"), tmp_path)
    assert shareable["mounts"][0]["source"] == str(tmp_path / "shm")
    assert (tmp_path / "shm").stat().st_mode & 0o7777 == 0o1777


def test_namespace_modes_checked_at_create() -> None:
    ids = {"donor": "d" * 64}

    def resolve(ref: str) -> str:
        if ref not in ids:
            raise NotFound(f"No such container: {ref}")
        return ids[ref]

    spec = Spec(pid_mode="container:donor", ipc_mode="container:donor", uts_mode="bogus")
    namespaces.check(spec, resolve)
    assert (spec.pid_mode, spec.ipc_mode, spec.uts_mode) == (
        "container:" + "d" * 64, "container:" + "d" * 64, "bogus")  # kept, as dockerd does
    assert spec.cgroupns_mode == namespaces.default_cgroupns()
    defaults = Spec()
    namespaces.check(defaults, resolve)
    assert defaults.ipc_mode == "private"
    for bad, message in ((Spec(ipc_mode="bogus"), "invalid IPC mode: bogus"),
                         (Spec(cgroupns_mode="x"), "invalid cgroup namespace mode: x"),
                         (Spec(uts_mode="host", hostname="h"),
                          "conflicting options: hostname and the UTS mode")):
        with pytest.raises(InvalidArgument, match=message):
            namespaces.check(bad, resolve)
    with pytest.raises(NotFound, match="No such container: nosuch"):
        namespaces.check(Spec(pid_mode="container:nosuch"), resolve)


def test_create_body_fields() -> None:
    spec = from_body({"Image": "x", "HostConfig": {
        "PidMode": "host", "IpcMode": "shareable", "UTSMode": "host", "CgroupnsMode": "private",
        "GroupAdd": ["1000", "audio"], "DeviceCgroupRules": ["c 7:128 rwm"],
        "VolumeDriver": "foo", "LogConfig": {"Type": "none", "Config": {"max-size": "x"}}}}).spec
    assert (spec.pid_mode, spec.ipc_mode, spec.uts_mode, spec.cgroupns_mode) == (
        "host", "shareable", "host", "private")
    assert (spec.group_add, spec.device_cgroup_rules) == (["1000", "audio"], ["c 7:128 rwm"])
    assert (spec.volume_driver, spec.log_driver) == ("foo", "none")
