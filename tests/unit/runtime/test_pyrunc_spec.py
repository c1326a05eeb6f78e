"""pyrunc.spec: the fast config checks (every error names the field path), bundle loading and
the default config of `pyrunc spec` (same structure as `runc spec`)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyrunc.errors import ConfigError
from pyrunc.spec import config as cfg
from pyrunc.spec.default import default_config

RUNC = shutil.which("runc") or ("/usr/sbin/runc" if os.access("/usr/sbin/runc", os.X_OK) else None)


def base() -> dict[str, Any]:
    c = default_config()
    c["process"]["terminal"] = False
    c["linux"]["namespaces"].append({"type": "cgroup"})
    c["hooks"] = {"prestart": [{"path": "/bin/true"}]}
    c["linux"]["uidMappings"] = []
    return c


def test_default_configs_pass() -> None:
    cfg.check(default_config())
    cfg.check(default_config(rootless=True))
    cfg.check(base())


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(c: dict) -> None:
        keys = path.split(".")
        target = c
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target.setdefault(k, {})
        last = keys[-1]
        if value is _DELETE:
            if isinstance(target, list):
                del target[int(last)]
            else:
                del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


_DELETE = object()

CASES: list[tuple[str, Callable[[dict], None], str]] = [
    ("ociVersion missing", _set("ociVersion", _DELETE), "ociVersion"),
    ("ociVersion int", _set("ociVersion", 1), "ociVersion"),
    ("root missing", _set("root", _DELETE), "root"),
    ("root.path missing", _set("root.path", _DELETE), "root.path"),
    ("root.path int", _set("root.path", 3), "root.path"),
    ("root.readonly str", _set("root.readonly", "yes"), "root.readonly"),
    ("hostname int", _set("hostname", 5), "hostname"),
    ("process not object", _set("process", []), "process"),
    ("process.terminal str", _set("process.terminal", "false"), "process.terminal"),
    ("process.args empty", _set("process.args", []), "process.args"),
    ("process.args missing", _set("process.args", _DELETE), "process.args"),
    ("process.args[1] int", _set("process.args", ["sh", 1]), "process.args[1]"),
    ("process.env[0] int", _set("process.env", [5]), "process.env[0]"),
    ("process.cwd missing", _set("process.cwd", _DELETE), "process.cwd"),
    ("process.cwd relative", _set("process.cwd", "tmp"), "process.cwd"),
    ("process.user.uid str", _set("process.user.uid", "0"), "process.user.uid"),
    ("process.user.uid bool", _set("process.user.uid", True), "process.user.uid"),
    ("process.user.gid missing", _set("process.user.gid", _DELETE), "process.user.gid"),
    ("process.user.additionalGids[1]", _set("process.user.additionalGids", [1, "2"]),
     "process.user.additionalGids[1]"),
    ("process.user.umask str", _set("process.user.umask", "022"), "process.user.umask"),
    ("caps bounding[0]", _set("process.capabilities.bounding", [7]),
     "process.capabilities.bounding[0]"),
    ("caps ambient not list", _set("process.capabilities.ambient", "CAP_KILL"),
     "process.capabilities.ambient"),
    ("rlimits[0].soft missing", _set("process.rlimits.0.soft", _DELETE),
     "process.rlimits[0].soft"),
    ("rlimits[0].type int", _set("process.rlimits.0.type", 7), "process.rlimits[0].type"),
    ("noNewPrivileges str", _set("process.noNewPrivileges", "true"), "process.noNewPrivileges"),
    ("oomScoreAdj str", _set("process.oomScoreAdj", "5"), "process.oomScoreAdj"),
    ("consoleSize.width missing", _set("process.consoleSize", {"height": 5}),
     "process.consoleSize.width"),
    ("mounts not list", _set("mounts", {}), "mounts"),
    ("mounts[1].destination missing", _set("mounts.1.destination", _DELETE),
     "mounts[1].destination"),
    ("mounts[2].options str", _set("mounts.2.options", "ro"), "mounts[2].options"),
    ("mounts[0].options[1] int", _set("mounts.1.options", ["ro", 1]), "mounts[1].options[1]"),
    ("hooks.prestart not list", _set("hooks.prestart", {}), "hooks.prestart"),
    ("hooks.prestart[0].path relative", _set("hooks.prestart.0.path", "bin/true"),
     "hooks.prestart[0].path"),
    ("hooks.prestart[0].path missing", _set("hooks.prestart.0.path", _DELETE),
     "hooks.prestart[0].path"),
    ("hooks.prestart[0].timeout 0", _set("hooks.prestart.0.timeout", 0),
     "hooks.prestart[0].timeout"),
    ("hooks.prestart[0].args[0] int", _set("hooks.prestart.0.args", [1]),
     "hooks.prestart[0].args[0]"),
    ("annotations list", _set("annotations", []), "annotations"),
    ("linux not object", _set("linux", []), "linux"),
    ("unknown namespace", _set("linux.namespaces.2.type", "foo"), "linux.namespaces[2].type"),
    ("namespace type missing", _set("linux.namespaces.1", {}), "linux.namespaces[1].type"),
    ("duplicate namespace", _set("linux.namespaces.1", {"type": "pid"}),
     "linux.namespaces[1].type"),
    ("namespace path int", _set("linux.namespaces.0.path", 3), "linux.namespaces[0].path"),
    ("uidMappings without userns",
     _set("linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
     "linux.uidMappings"),
    ("gidMappings[0].size missing",
     _set("linux.gidMappings", [{"containerID": 0, "hostID": 1000}]),
     "linux.gidMappings[0].size"),
    ("devices[0].type bad",
     _set("linux.devices", [{"path": "/dev/x", "type": "z", "major": 1, "minor": 1}]),
     "linux.devices[0].type"),
    ("devices[0].major missing", _set("linux.devices", [{"path": "/dev/x", "type": "c"}]),
     "linux.devices[0]"),
    ("maskedPaths[0] int", _set("linux.maskedPaths", [1]), "linux.maskedPaths[0]"),
    ("sysctl value int", _set("linux.sysctl", {"net.ipv4.ip_forward": 1}),
     "linux.sysctl.net.ipv4.ip_forward"),
    ("rootfsPropagation bad", _set("linux.rootfsPropagation", "sideways"),
     "linux.rootfsPropagation"),
    ("cgroupsPath int", _set("linux.cgroupsPath", 5), "linux.cgroupsPath"),
    ("resources list", _set("linux.resources", []), "linux.resources"),
]


@pytest.mark.parametrize(("what", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
def test_error_names_the_field(what: str, mutate: Callable[[dict], None], field: str) -> None:
    c = base()
    mutate(c)
    with pytest.raises(ConfigError) as info:
        cfg.check(c)
    text = str(info.value)
    quoted = field.replace("linux.sysctl.", 'linux.sysctl["', 1) + '"]'  # either key spelling
    assert any(f"{name}{end}" in text for name in (field, quoted) for end in (":", " ")), text
    assert "\n" not in text


def test_config_must_be_an_object() -> None:
    for doc in ([], "x", None, 3):
        with pytest.raises(ConfigError):
            cfg.check(doc)


def test_unknown_fields_are_allowed() -> None:
    c = base()
    c["vendor.example"] = {"x": 1}
    c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE"}
    cfg.check(c)


# -- load_bundle --------------------------------------------------------------------------------
def _bundle(tmp_path: Path, config: Any = None, rootfs: bool = True) -> Path:
    b = tmp_path / "bundle"
    b.mkdir()
    if rootfs:
        (b / "rootfs").mkdir()
    text = config if isinstance(config, str) else json.dumps(config or base())
    (b / "config.json").write_text(text)
    return b


def test_load_bundle_relative_rootfs(tmp_path: Path) -> None:
    b = _bundle(tmp_path)
    bundle = cfg.load_bundle(str(b))
    assert bundle.path == str(b)
    assert bundle.rootfs == str(b / "rootfs")
    assert bundle.config.oci_version


def test_load_bundle_absolute_rootfs(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    c = base()
    c["root"]["path"] = str(other)
    b = _bundle(tmp_path, c, rootfs=False)
    assert cfg.load_bundle(str(b)).rootfs == str(other)


def test_load_bundle_relative_bundle_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = _bundle(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cfg.load_bundle("bundle").path == str(b)
    monkeypatch.chdir(b)
    assert cfg.load_bundle("").path == str(b)


def test_no_bundle_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=str(tmp_path / "nope")):
        cfg.load_bundle(str(tmp_path / "nope"))


def test_no_config_json(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    with pytest.raises(ConfigError, match=r"config\.json"):
        cfg.load_bundle(str(tmp_path / "b"))


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    b = _bundle(tmp_path, '{\n  "ociVersion": "1.0.2",\n  "root": {,\n}')
    with pytest.raises(ConfigError) as info:
        cfg.load_bundle(str(b))
    text = str(info.value)
    assert str(b / "config.json") in text
    assert "line 3 column 12" in text


def test_missing_rootfs(tmp_path: Path) -> None:
    b = _bundle(tmp_path, rootfs=False)
    with pytest.raises(ConfigError, match="rootfs"):
        cfg.load_bundle(str(b))


# -- default config -----------------------------------------------------------------------------
def test_default_config_shape() -> None:
    c = default_config()
    assert c["root"] == {"path": "rootfs", "readonly": True}
    assert c["process"]["terminal"] is True and c["process"]["args"] == ["sh"]
    assert [n["type"] for n in c["linux"]["namespaces"]] == \
        ["pid", "network", "ipc", "uts", "mount"]
    assert "uidMappings" not in c["linux"]
    assert [m["destination"] for m in c["mounts"]] == \
        ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]


def test_default_rootless_config_shape() -> None:
    c = default_config(rootless=True)
    types = [n["type"] for n in c["linux"]["namespaces"]]
    assert "user" in types and "network" not in types
    assert c["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert c["linux"]["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    assert "resources" not in c["linux"]


def test_default_config_is_fresh_each_call() -> None:
    a = default_config()
    a["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    a["linux"]["maskedPaths"].clear()
    b = default_config()
    assert "CAP_SYS_ADMIN" not in b["process"]["capabilities"]["bounding"]
    assert b["linux"]["maskedPaths"]


@pytest.mark.skipif(RUNC is None, reason="runc not on PATH")
@pytest.mark.parametrize("rootless", [False, True])
def test_same_as_runc_spec(tmp_path: Path, rootless: bool) -> None:
    assert RUNC is not None
    subprocess.run([RUNC, "spec", *(["--rootless"] if rootless else [])], cwd=tmp_path,
                   check=True, capture_output=True)
    theirs = json.loads((tmp_path / "config.json").read_text())
    ours = copy.deepcopy(default_config(rootless))
    assert ours == theirs
