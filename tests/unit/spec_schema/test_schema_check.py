"""pyrunc.spec.schema_check: real configs pass, typical mistakes name the right field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyrunc.spec import schema_check
from pyrunc.spec.schema_check import SchemaProblem, format_path, validate

CONFIGS = Path(__file__).with_name("configs")
REAL_CONFIGS = sorted(p.name for p in CONFIGS.glob("*.json"))
RUNTIME_ROOT = Path(schema_check.__file__).resolve().parents[2]


def load(name: str = "runc-1.1-spec.json") -> dict[str, Any]:
    return json.loads((CONFIGS / name).read_text())


def paths(problems: list[SchemaProblem]) -> list[str]:
    return [p.path for p in problems]


@pytest.mark.parametrize("name", REAL_CONFIGS)
def test_real_configs_are_valid(name):
    """runc/crun `spec` output, a config podman 4.3 wrote, containerd 1.6's ctr defaults."""
    assert validate(load(name)) == []


def test_schema_is_valid_draft_2020_12():
    import jsonschema

    schema = json.loads(Path(schema_check.SCHEMA_PATH).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def mutated(change, name: str = "runc-1.1-spec.json") -> list[SchemaProblem]:
    config = load(name)
    change(config)
    return validate(config)


def test_unknown_namespace_type():
    def change(c):
        c["linux"]["namespaces"][2]["type"] = "net"
    problems = mutated(change)
    assert paths(problems) == ["linux.namespaces[2].type"]
    assert "'net' is not one of" in problems[0].message and "'network'" in problems[0].message


def test_duplicate_namespace():
    def change(c):
        c["linux"]["namespaces"].append({"type": "pid"})
    problems = mutated(change)
    assert paths(problems) == ["linux.namespaces[5].type"]
    assert "duplicate" in problems[0].message and "linux.namespaces[0]" in problems[0].message


def test_relative_namespace_path():
    def change(c):
        c["linux"]["namespaces"][1]["path"] = "var/run/netns/x"
    assert paths(mutated(change)) == ["linux.namespaces[1].path"]


def test_uid_as_string():
    def change(c):
        c["process"]["user"]["uid"] = "0"
    problems = mutated(change)
    assert [str(p) for p in problems] == ["process.user.uid: must be of type integer, not string"]


def test_missing_required_fields_name_the_field():
    def change(c):
        del c["ociVersion"]
        del c["process"]["user"]["gid"]
        del c["mounts"][3]["destination"]
    assert paths(mutated(change)) == ["mounts[3].destination", "ociVersion", "process.user.gid"]


def test_root_required_on_linux():
    def change(c):
        del c["root"]
    assert paths(mutated(change)) == ["root"]


def test_bad_oci_version():
    def change(c):
        c["ociVersion"] = "1.0"
    problems = mutated(change)
    assert paths(problems) == ["ociVersion"] and "SemVer" in problems[0].message


def test_rlimit_mistakes():
    def change(c):
        c["process"]["rlimits"] = [{"type": "NOFILE", "soft": 1024, "hard": 1024},
                                   {"type": "RLIMIT_NPROC", "soft": -1, "hard": 10}]
    assert paths(mutated(change)) == ["process.rlimits[0].type", "process.rlimits[1].soft"]


def test_capability_names():
    def change(c):
        c["process"]["capabilities"]["bounding"][1] = "kill"
    problems = mutated(change)
    assert paths(problems) == ["process.capabilities.bounding[1]"]
    assert "CAP_CHOWN" in problems[0].message


def test_env_entry_without_equals():
    def change(c):
        c["process"]["env"].append("JUSTANAME")
    assert paths(mutated(change)) == ["process.env[2]"]


def test_cwd_and_args_on_linux():
    def change(c):
        c["process"]["cwd"] = "relative/dir"
        c["process"]["args"] = []
    assert paths(mutated(change)) == ["process.args", "process.cwd"]


def test_oom_score_adj_range():
    def change(c):
        c["process"]["oomScoreAdj"] = 2000
    problems = mutated(change)
    assert [str(p) for p in problems] == ["process.oomScoreAdj: 2000 must be at most 1000"]


def test_hooks():
    def change(c):
        c["hooks"] = {"prestart": [{"path": "hook.sh"}],
                      "poststop": [{"path": "/bin/true", "timeout": 0}],
                      "createRuntime": [{"args": ["x"]}]}
    assert paths(mutated(change)) == ["hooks.createRuntime[0].path", "hooks.poststop[0].timeout",
                                      "hooks.prestart[0].path"]


def test_devices():
    def change(c):
        c["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "minor": 229},
                                 {"path": "/dev/x", "type": "x", "major": 1, "minor": 1},
                                 {"path": "/dev/fifo", "type": "p"}]
    assert paths(mutated(change)) == ["linux.devices[0].major", "linux.devices[1].type"]


def test_sysctl_value_must_be_string():
    def change(c):
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": 1}
    assert paths(mutated(change)) == ['linux.sysctl["net.ipv4.ip_forward"]']


def test_resources():
    def change(c):
        c["linux"]["resources"]["memory"] = {"limit": "1g", "swappiness": -1}
        c["linux"]["resources"]["devices"].append({"allow": True, "access": "rwx"})
        c["linux"]["resources"]["pids"] = {"limit": 1.5}
    assert paths(mutated(change)) == [
        "linux.resources.devices[1].access", "linux.resources.memory.limit",
        "linux.resources.memory.swappiness", "linux.resources.pids.limit"]


def test_annotation_keys_must_not_be_empty():
    def change(c):
        c["annotations"] = {"": "x", "ok": "y"}
    assert [str(p) for p in mutated(change)] == ["annotations: keys must not be empty"]


def test_seccomp():
    def change(c):
        c["linux"]["seccomp"]["syscalls"][0]["action"] = "SCMP_ACT_DENY"
        c["linux"]["seccomp"]["defaultAction"] = "allow"
    problems = mutated(change, "podman-4.3-create.json")
    assert paths(problems) == ["linux.seccomp.defaultAction", "linux.seccomp.syscalls[0].action"]


def test_rootfs_propagation_and_mapping():
    def change(c):
        c["linux"]["rootfsPropagation"] = "recursive"
        c["linux"]["uidMappings"][0]["size"] = -1
    assert paths(mutated(change, "runc-1.1-spec-rootless.json")) == [
        "linux.rootfsPropagation", "linux.uidMappings[0].size"]


def test_wrong_top_level_types():
    assert [str(p) for p in validate([])] == ["(config): must be of type object, not array"]
    problems = validate({"ociVersion": "1.0.2", "process": "sh", "mounts": {}})
    assert paths(problems) == ["mounts", "process"]


def test_unknown_properties_are_ignored():
    config = load()
    config["org.example.extension"] = {"anything": True}
    config["process"]["futureField"] = 1
    assert validate(config) == []


def test_all_problems_reported_once_and_sorted():
    config = load()
    bad = copy.deepcopy(config)
    bad["hostname"] = 5
    bad["linux"]["namespaces"][0]["type"] = "bogus"
    problems = validate(bad)
    assert paths(problems) == ["hostname", "linux.namespaces[0].type"]
    assert validate(config) == []


def test_format_path_quotes_odd_keys():
    assert format_path(["linux", "namespaces", 2, "type"]) == "linux.namespaces[2].type"
    assert format_path(["annotations", "io.podman/x"]) == 'annotations["io.podman/x"]'
    assert format_path([]) == ""


def run_isolated(code: str) -> subprocess.CompletedProcess[str]:
    """Like pyrunc's launcher: -I -S, no site-packages on sys.path."""
    prelude = f"import sys; sys.path.insert(0, {str(RUNTIME_ROOT)!r})\n"
    return subprocess.run([sys.executable, "-I", "-S", "-c", prelude + code],
                          capture_output=True, text=True, check=False)


def test_import_does_not_load_jsonschema():
    res = run_isolated("import pyrunc.spec.schema_check\n"
                       "print(sorted(m for m in sys.modules if m.startswith(('jsonschema', 're',"
                       " 'json'))))")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_validate_finds_jsonschema_without_site():
    code = ("import json\n"
            "from pyrunc.spec.schema_check import validate\n"
            f"config = json.load(open({str(CONFIGS / 'runc-1.1-spec.json')!r}))\n"
            "config['linux']['namespaces'][0]['type'] = 'bogus'\n"
            "print([str(p) for p in validate(config)])\n")
    res = run_isolated(code)
    assert res.returncode == 0, res.stderr
    assert "linux.namespaces[0].type: 'bogus' is not one of" in res.stdout


def test_missing_schema_file_is_a_clear_error(monkeypatch, tmp_path):
    from pyrunc.errors import PyruncError

    monkeypatch.setattr(schema_check, "_validator", None)
    monkeypatch.setattr(schema_check, "SCHEMA_PATH", str(tmp_path / "none.json"))
    with pytest.raises(PyruncError, match=r"schema check: read .*none\.json: No such file"):
        validate(load())
