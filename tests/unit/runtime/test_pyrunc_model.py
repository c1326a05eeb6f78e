"""pyrunc.spec.model: config.json decoded once into typed objects, with the type and range rules
an independent fuzz showed missing (issue 13); every refusal names the field path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyrunc import jsonio
from pyrunc.errors import ConfigError
from pyrunc.spec import model
from pyrunc.spec.config import load_bundle
from pyrunc.spec.default import default_config


def config(**linux: Any) -> dict[str, Any]:
    c = default_config()
    c["process"]["terminal"] = False
    c["linux"].update(linux)
    return c


def refused(c: Any, field: str, cause: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        model.decode_config(c)
    text = str(info.value)
    assert f"{field}:" in text, text
    assert cause in text, text
    assert "\n" not in text
    return text


def test_default_config_round_trips() -> None:
    for c in (default_config(), default_config(rootless=True)):
        decoded = model.decode_config(c)
        assert decoded.to_json() == c
        assert model.decode_config(decoded.to_json()) == decoded


def test_typed_access() -> None:
    c = config(resources={"memory": {"limit": -1}, "devices": [{"allow": False}]})
    d = model.decode_config(c)
    assert d.process is not None and d.process.user is not None
    assert d.process.user.uid == 0 and d.process.args == ["sh"]
    assert d.linux is not None and d.linux.resources is not None
    assert d.linux.resources.memory is not None and d.linux.resources.memory.limit == -1
    assert d.linux.resources.devices == [model.DeviceRule(allow=False)]


@pytest.mark.parametrize("value", [-1, 4294967295, 2**63, True, "0", 1.0])
@pytest.mark.parametrize("field", ["uid", "gid"])
def test_user_ids_are_real_ids(field: str, value: Any) -> None:
    # setresuid(-1) means "unchanged": -1 and 4294967295 used to run the process as root.
    c = config()
    c["process"]["user"][field] = value
    refused(c, f"process.user.{field}")


def test_additional_gids_range() -> None:
    c = config()
    c["process"]["user"]["additionalGids"] = [5, 4294967295]
    refused(c, "process.user.additionalGids[1]", "out of range")
    c["process"]["user"]["additionalGids"] = [4294967294]
    model.decode_config(c)


USERNS = [{"type": "user"}, {"type": "mount"}]


@pytest.mark.parametrize(("mapping", "field"), [
    ({"containerID": 0, "hostID": 4294967296, "size": 1}, "hostID"),
    ({"containerID": -1, "hostID": 0, "size": 1}, "containerID"),
    ({"containerID": 0, "hostID": 0, "size": 0}, "size"),
    # start + size beyond 2^32: named by the start, with the size in the message
    ({"containerID": 0, "hostID": 4294967295, "size": 2}, "hostID"),
    ({"containerID": 4294967000, "hostID": 0, "size": 1000}, "containerID"),
    ({"containerID": 0, "hostID": "0", "size": 1}, "hostID"),
])
def test_id_mappings_fit_in_32_bits(mapping: dict, field: str) -> None:
    # hostID 4294967296 was written to uid_map and truncated by the kernel to 0 (host root).
    c = config(namespaces=USERNS, uidMappings=[mapping], gidMappings=[])
    refused(c, f"linux.uidMappings[0].{field}")


def test_id_mapping_full_range_accepted() -> None:
    c = config(namespaces=USERNS, uidMappings=[{"containerID": 0, "hostID": 0,
                                                "size": 2**32}])
    model.decode_config(c)


@pytest.mark.parametrize(("rule", "field"), [
    ({"allow": "false", "access": "rwm"}, "allow"),
    ({"allow": 1, "access": "rwm"}, "allow"),
    ({"access": "rwm"}, "allow"),
    ({"allow": True, "access": ""}, "access"),
    ({"allow": True, "access": "rrw"}, "access"),
    ({"allow": True, "access": "rwx"}, "access"),
    ({"allow": True, "type": "u"}, "type"),
    ({"allow": True, "type": "c", "major": "1"}, "major"),
    ({"allow": True, "type": "c", "major": 1, "minor": 2**40}, "minor"),
])
def test_device_cgroup_rules(rule: dict, field: str) -> None:
    # "allow": "false" or 1 turned deny-all into allow-all; "access": "" granted rwm.
    c = config(resources={"devices": [rule]})
    text = refused(c, f"linux.resources.devices[0].{field}")
    if rule.get("allow") == "false":
        assert text.endswith("linux.resources.devices[0].allow: expected boolean, got string")


@pytest.mark.parametrize(("device", "field"), [
    ({"path": "/dev/x", "type": "z", "major": 1, "minor": 1}, ".type"),
    ({"path": "dev/x", "type": "c", "major": 1, "minor": 1}, ".path"),
    ({"path": "/dev/x\u0000y", "type": "c", "major": 1, "minor": 1}, ".path"),
    ({"path": "/dev/x", "type": "c", "major": -1, "minor": 1}, ".major"),
    ({"path": "/dev/x", "type": "c", "major": 1, "minor": 2**20}, ".minor"),
    ({"path": "/dev/x", "type": "c", "major": 1, "minor": 1, "fileMode": 0o10666}, ".fileMode"),
    ({"path": "/dev/x", "type": "b", "major": 1, "minor": 1, "fileMode": 0o20666}, ".fileMode"),
    ({"path": "/dev/x", "type": "c", "major": 1, "minor": 1, "fileMode": 0o200000}, ".fileMode"),
    ({"path": "/dev/x", "type": "c", "major": 1, "minor": 1, "uid": -1}, ".uid"),
    ({"path": "/dev/x", "type": "c", "major": 1, "minor": 1, "gid": 2**32 - 1}, ".gid"),
    ({"path": "/dev/x", "type": "b"}, ""),
])
def test_linux_devices(device: dict, field: str) -> None:
    refused(config(devices=[device]), f"linux.devices[0]{field}")


@pytest.mark.parametrize(("kind", "mode"), [("c", 0o20600), ("u", 0o20666), ("b", 0o60660),
                                            ("p", 0o10644), ("c", 0o4755)])
def test_device_file_mode_may_carry_its_own_type_bits(kind: str, mode: int) -> None:
    # podman sends a device's whole st_mode (S_IFCHR|0600); runc accepts it.
    device = {"path": "/dev/x", "type": kind, "major": 1, "minor": 1, "fileMode": mode}
    decoded = model.decode_config(config(devices=[device]))
    assert decoded.linux is not None and decoded.linux.devices is not None
    assert decoded.linux.devices[0].file_mode == mode


def test_fifo_device_needs_no_numbers() -> None:
    model.decode_config(config(devices=[{"path": "/dev/f", "type": "p"}]))


@pytest.mark.parametrize("bad", ["a\u0000b", "\ud800", "x\udfffy"])
@pytest.mark.parametrize("where", ["root.path", "linux.cgroupsPath", "process.args",
                                   "process.cwd", "hostname", "linux.sysctl",
                                   "linux.sysctl-key", "mounts", "linux.mountLabel",
                                   "process.selinuxLabel"])
def test_strings_without_nul_or_lone_surrogate(where: str, bad: str) -> None:
    c = config()
    if where == "root.path":
        c["root"]["path"] = bad
    elif where == "linux.cgroupsPath":
        c["linux"]["cgroupsPath"] = "/x/" + bad
    elif where == "process.args":
        c["process"]["args"] = ["sh", bad]
        where = "process.args[1]"
    elif where == "process.cwd":
        c["process"]["cwd"] = "/" + bad
    elif where == "hostname":
        c["hostname"] = bad
    elif where == "linux.sysctl":
        c["linux"]["sysctl"] = {"kernel.x": bad}
        where = 'linux.sysctl["kernel.x"]'
    elif where == "linux.sysctl-key":
        c["linux"]["sysctl"] = {bad: "1"}
        where = f'linux.sysctl["{bad}"]'
    elif where == "mounts":
        c["mounts"][0]["destination"] = "/" + bad
        where = "mounts[0].destination"
    elif where == "linux.mountLabel":
        c["linux"]["mountLabel"] = bad
    else:
        c["process"]["selinuxLabel"] = bad
    refused(c, where)


def test_lone_surrogate_from_json_text(tmp_path: Path) -> None:
    c = config()
    c["linux"]["cgroupsPath"] = "PLACEHOLDER"
    text = json.dumps(c).replace("PLACEHOLDER", "/a\\ud800")
    refused(jsonio.loads(text), "linux.cgroupsPath", "lone surrogate")


def test_annotations_are_free_text_but_strings() -> None:
    c = config()
    c["annotations"] = {"a": "x\u0000\ud800"}
    model.decode_config(c)
    c["annotations"] = {"a": 1}
    refused(c, 'annotations["a"]')


@pytest.mark.parametrize(("resources", "field"), [
    ({"memory": "256M"}, "linux.resources.memory"),
    ({"memory": {"limit": "256M"}}, "linux.resources.memory.limit"),
    ({"memory": {"limit": 2**63}}, "linux.resources.memory.limit"),
    ({"memory": {"swappiness": -1}}, "linux.resources.memory.swappiness"),
    ({"pids": 5}, "linux.resources.pids"),
    ({"pids": {}}, "linux.resources.pids.limit"),
    ({"devices": "x"}, "linux.resources.devices"),
    ({"hugepageLimits": {}}, "linux.resources.hugepageLimits"),
    ({"hugepageLimits": [{"pageSize": "2MB"}]}, "linux.resources.hugepageLimits[0].limit"),
    ({"cpu": {"shares": -5}}, "linux.resources.cpu.shares"),
    ({"cpu": {"cpus": 3}}, "linux.resources.cpu.cpus"),
    ({"blockIO": {"weight": 70000}}, "linux.resources.blockIO.weight"),
    ({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}},
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate"),
    ({"network": {"classID": -1}}, "linux.resources.network.classID"),
    ({"rdma": {"mlx": {"hcaHandles": "3"}}}, 'linux.resources.rdma["mlx"].hcaHandles'),
    ({"unified": {"memory.max": 5}}, 'linux.resources.unified["memory.max"]'),
    ({"unified": []}, "linux.resources.unified"),
])
def test_resources_typed(resources: dict, field: str) -> None:
    refused(config(resources=resources), field)


def test_memory_unlimited_is_minus_one() -> None:
    d = model.decode_config(config(resources={"memory": {"limit": -1, "swap": -1}}))
    assert d.linux and d.linux.resources and d.linux.resources.memory
    assert d.linux.resources.memory.limit == -1


@pytest.mark.parametrize(("timeout", "ok"), [(0, False), (-1, False), (1, True),
                                             (model.HOOK_TIMEOUT_MAX, True),
                                             (model.HOOK_TIMEOUT_MAX + 1, False),
                                             (2**63, False), ("5", False), (1.5, False)])
def test_hook_timeout_bounded(timeout: Any, ok: bool) -> None:
    c = config()
    c["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": timeout}]}
    if ok:
        model.decode_config(c)
    else:
        refused(c, "hooks.prestart[0].timeout")


def test_unknown_hook_kinds_are_ignored() -> None:
    # runtime-spec: unknown properties MUST NOT cause an error.
    c = config()
    c["hooks"] = {"preStart": [{"path": 5}], "poststop": [{"path": "/bin/true"}]}
    d = model.decode_config(c)
    assert d.hooks and d.hooks.poststop == [model.Hook(path="/bin/true")]
    assert d.hooks.to_json() == {"poststop": [{"path": "/bin/true"}]}


@pytest.mark.parametrize(("entry", "cause"), [
    ("", "missing '='"), ("PATH", "missing '='"), ("=x", "name cannot be empty"),
    ("A=b\u0000c", "NUL"), (5, "expected string"),
])
def test_env_entries(entry: Any, cause: str) -> None:
    c = config()
    c["process"]["env"] = ["PATH=/bin", entry]
    refused(c, "process.env[1]", cause)


def test_env_value_may_hold_equals_and_be_empty() -> None:
    c = config()
    c["process"]["env"] = ["A=", "B=c=d"]
    model.decode_config(c)


@pytest.mark.parametrize(("process", "field"), [
    ({"ioPriority": {"class": "IOPRIO_CLASS_NONE"}}, "process.ioPriority.class"),
    ({"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}}, "process.ioPriority.priority"),
    ({"scheduler": {"policy": "SCHED_FAST"}}, "process.scheduler.policy"),
    ({"scheduler": {"policy": "SCHED_OTHER", "nice": 20}}, "process.scheduler.nice"),
    ({"scheduler": {"policy": "SCHED_OTHER", "flags": ["X"]}}, "process.scheduler.flags[0]"),
    ({"scheduler": {"policy": "SCHED_DEADLINE", "runtime": -1}}, "process.scheduler.runtime"),
    ({"apparmorProfile": 5}, "process.apparmorProfile"),
    ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 5}]}, "process.rlimits[0].soft"),
    ({"consoleSize": {"height": 5, "width": -1}}, "process.consoleSize.width"),
    ({"oomScoreAdj": 1001}, "process.oomScoreAdj"),
])
def test_process_fields(process: dict, field: str) -> None:
    c = config()
    c["process"].update(process)
    refused(c, field)


@pytest.mark.parametrize(("linux", "field"), [
    ({"personality": {"domain": "LINUX64"}}, "linux.personality.domain"),
    ({"personality": {"domain": "LINUX", "flags": "x"}}, "linux.personality.flags"),
    ({"intelRdt": {"closID": 5}}, "linux.intelRdt.closID"),
    ({"timeOffsets": {"monotonic": {"secs": "1"}}}, "linux.timeOffsets.monotonic.secs"),
    ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "x"}]}},
     "linux.seccomp.syscalls[0].names"),
    ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "x",
                                                                  "value": -1}]}]}},
     "linux.seccomp.syscalls[0].args[0].value"),
])
def test_linux_fields(linux: dict, field: str) -> None:
    refused(config(**linux), field)


def test_typed_fields_decoded() -> None:
    c = config(personality={"domain": "LINUX32", "flags": []}, mountLabel="x",
               intelRdt={"closID": "g", "l3CacheSchema": "L3:0=f"})
    c["process"].update(apparmorProfile="p", selinuxLabel="l",
                        ioPriority={"class": "IOPRIO_CLASS_IDLE", "priority": 7},
                        scheduler={"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 2,
                                   "period": 3, "nice": -20})
    d = model.decode_config(c)
    assert d.process and d.process.io_priority and d.process.io_priority.klass == \
        "IOPRIO_CLASS_IDLE"
    assert d.process.scheduler and d.process.scheduler.period == 3
    assert d.linux and d.linux.personality and d.linux.personality.domain == "LINUX32"
    assert d.linux.intel_rdt and d.linux.intel_rdt.clos_id == "g"
    assert d.to_json() == c


# -- nesting ------------------------------------------------------------------------------------
def _nested(depth: int) -> str:
    c = config()
    c["annotations"] = {}
    text = json.dumps(c)
    return text[:-1] + ', "x-vendor": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_nesting_go_accepts_is_accepted() -> None:
    d = model.decode_config(jsonio.loads(_nested(10_000)))
    assert d.oci_version


def test_nesting_beyond_is_a_json_error_not_a_recursion_error() -> None:
    with pytest.raises(jsonio.JSONError, match="nested more than 10000 levels"):
        jsonio.loads(_nested(100_000))
    assert sys.getrecursionlimit() < 10_000  # restored


def test_deep_nesting_through_load_bundle(tmp_path: Path) -> None:
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "config.json").write_text(_nested(100_000))
    with pytest.raises(ConfigError, match="malformed JSON: nested more than"):
        load_bundle(str(tmp_path))


# -- start-up cost -------------------------------------------------------------------------------
def test_model_imports_nothing_heavy() -> None:
    code = ("import sys; import pyrunc.spec.config; "
            "print(' '.join(sorted(m for m in sys.modules if m in "
            "('re','typing','enum','json','dataclasses','inspect'))))")
    env = dict(os.environ, PYTHONPATH=str(Path(model.__file__).parents[2]))
    out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == ""
