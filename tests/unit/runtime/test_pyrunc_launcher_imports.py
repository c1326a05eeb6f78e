"""The lean launcher (absolute interpreter, -IS) and the hot-path import budget: create, start
and state run several times per container under containerd/podman, so the modules they load
must not import re, json, typing, enum, subprocess, shutil, signal, dataclasses or socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyrunc import launcher

RUNTIME_DIR = Path(launcher.__file__).resolve().parent.parent
FORBIDDEN = {"re", "json", "typing", "enum", "subprocess", "shutil", "signal", "dataclasses",
             "socket", "argparse", "pathlib", "jsonschema", "site"}
HOT_MODULES = [
    "pyrunc.cli.main", "pyrunc.cli.args", "pyrunc.cli.common",
    "pyrunc.cli.verb_create", "pyrunc.cli.verb_start", "pyrunc.cli.verb_state",
    "pyrunc.cli.verb_kill", "pyrunc.cli.verb_delete",
    "pyrunc.create", "pyrunc.container", "pyrunc.cgroup_record", "pyrunc.state",
    "pyrunc.jsonio", "pyrunc.log",
    "pyrunc.errors", "pyrunc.signals", "pyrunc.procs", "pyrunc.spec.config",
    "pyrunc.linux.init", "pyrunc.linux.caps", "pyrunc.linux.process", "pyrunc.linux.rootfs",
    "pyrunc.linux.mounts", "pyrunc.linux.mountopts", "pyrunc.linux.devices",
    "pyrunc.linux.paths", "pyrunc.linux.console", "pyrunc.cgroups",
]
REAL_PYTHON = os.path.realpath(sys.executable)


@pytest.fixture
def launcher_path(tmp_path: Path) -> Path:
    return Path(launcher.install(str(tmp_path / "bin" / "pyrunc")))


def test_render_uses_an_absolute_real_interpreter_with_IS() -> None:
    text = launcher.render()
    first = text.splitlines()[0]
    assert first.startswith("#!/")
    interp, _, flags = first[2:].partition(" ")
    assert os.path.isabs(interp) and interp == launcher.preferred_python()
    assert interp == os.path.realpath(interp)
    assert flags.strip() in ("-IS", "-SI", "-I -S", "-S -I")
    with open(interp, "rb") as f:  # a binary, not pyenv's bash shim
        assert f.read(4) == b"\x7fELF"
    assert repr(str(RUNTIME_DIR)) in text


def test_render_with_explicit_python() -> None:
    assert launcher.render("/opt/py/bin/python3").startswith("#!/opt/py/bin/python3 -IS\n")


def test_preferred_python_is_the_distributions_when_it_can_run_pyrunc(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYRUNC_PYTHON", raising=False)
    distro = os.path.realpath(launcher.DISTRO_PYTHON)
    if os.path.isfile(distro) and launcher.can_run_pyrunc(distro):
        assert launcher.preferred_python() == distro
    else:
        assert launcher.preferred_python() == REAL_PYTHON


def test_preferred_python_skips_an_interpreter_that_cannot(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\necho 'Python 3.9' >&2\nexit 1\n")
    old.chmod(0o755)
    assert not launcher.can_run_pyrunc(str(old))
    assert not launcher.can_run_pyrunc(str(tmp_path / "missing"))
    assert launcher.can_run_pyrunc(REAL_PYTHON)
    monkeypatch.delenv("PYRUNC_PYTHON", raising=False)
    monkeypatch.setattr(launcher, "DISTRO_PYTHON", str(old))
    assert launcher.preferred_python() == REAL_PYTHON
    monkeypatch.setenv("PYRUNC_PYTHON", REAL_PYTHON)
    assert launcher.preferred_python() == REAL_PYTHON


def test_module_entry_point_with_python(tmp_path: Path) -> None:
    dest = tmp_path / "y" / "pyrunc"
    env = {**os.environ, "PYTHONPATH": str(RUNTIME_DIR)}
    out = subprocess.run([sys.executable, "-m", "pyrunc.launcher", "--python", REAL_PYTHON,
                          str(dest)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(dest)
    assert dest.read_text().startswith(f"#!{REAL_PYTHON} -IS\n")
    bad = subprocess.run([sys.executable, "-m", "pyrunc.launcher", "--python", "/nonexistent",
                          str(dest)], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "/nonexistent" in bad.stderr


def test_validate_through_the_launcher(launcher_path: Path, tmp_path: Path) -> None:
    """`validate` needs jsonschema from the launcher's interpreter (site-packages, or the
    distribution's python3-jsonschema)."""
    bundle = tmp_path / "b"
    bundle.mkdir()
    subprocess.run([str(launcher_path), "spec", "--bundle", str(bundle)], check=True)
    ok = subprocess.run([str(launcher_path), "validate", "--bundle", str(bundle)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["args"] = "not a list"
    (bundle / "config.json").write_text(json.dumps(config))
    bad = subprocess.run([str(launcher_path), "validate", "--bundle", str(bundle)],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "process.args" in bad.stdout + bad.stderr


def test_install_is_executable_and_runs_without_path(launcher_path: Path) -> None:
    assert os.stat(launcher_path).st_mode & 0o777 == 0o755
    assert not [p for p in os.listdir(launcher_path.parent) if p != "pyrunc"]  # no temp left
    # podman runs the runtime with no PATH and no PYTHON* variables
    out = subprocess.run([str(launcher_path), "--version"], env={"XDG_RUNTIME_DIR": ""},
                         capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("pyrunc version ")
    assert any(x.startswith("commit: ") for x in lines)
    assert any(x.startswith("spec: 1.") for x in lines)
    assert out.stderr == ""


def test_launcher_ignores_pythonpath_and_user_site(launcher_path: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    (evil / "pyrunc").mkdir(parents=True)
    (evil / "pyrunc" / "__init__.py").write_text("raise SystemExit('wrong pyrunc imported')\n")
    out = subprocess.run([str(launcher_path), "--version"],
                         env={"PYTHONPATH": str(evil), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_module_entry_point(tmp_path: Path) -> None:
    dest = tmp_path / "x" / "pyrunc"
    out = subprocess.run([sys.executable, "-m", "pyrunc.launcher", str(dest)],
                         env={**os.environ, "PYTHONPATH": str(RUNTIME_DIR)},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(dest)
    assert dest.read_text() == launcher.render()


def _before_json(code: str) -> set[str]:
    """Modules loaded by `code` alone (the json-free view), from -X importtime."""
    prog = f"import sys\nsys.path.insert(0, {str(RUNTIME_DIR)!r})\n{code}\n"
    out = subprocess.run([REAL_PYTHON, "-I", "-S", "-X", "importtime", "-c", prog],
                         capture_output=True, text=True, check=True)
    return _importtime_modules(out.stderr)


def _importtime_modules(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                names.add(name)
    return names


def test_hot_path_modules_import_nothing_heavy() -> None:
    code = "\n".join(f"import {m}" for m in HOT_MODULES)
    loaded = _before_json(code)
    assert set(HOT_MODULES) <= loaded | {"pyrunc.cgroups"}
    assert not FORBIDDEN & loaded, sorted(FORBIDDEN & loaded)


@pytest.mark.parametrize("module", HOT_MODULES)
def test_each_hot_module_alone(module: str) -> None:
    loaded = _before_json(f"import {module}")
    assert not FORBIDDEN & loaded, sorted(FORBIDDEN & loaded)


def _fake_container(root: Path, cid: str, pid: int) -> None:
    from pyrunc import state

    d = state.ContainerDir(str(root), cid)
    d.claim()
    d.unlock()
    rec = state.ContainerRecord(cid, "/b", "/b/rootfs", state.now_rfc3339())
    rec.status, rec.pid, rec.pid_start = "created", pid, state.proc_start_time(pid)
    d.write(rec)


@pytest.mark.parametrize("verb", [["state", "c1"], ["list"], ["list", "-q"],
                                  ["kill", "stopped", "9"], ["state", "missing"],
                                  ["delete", "--force", "missing"]])
def test_verbs_executed_import_nothing_heavy(tmp_path: Path, launcher_path: Path,
                                             verb: list[str]) -> None:
    """Run real verbs (on a fake state dir) under -X importtime, as containerd would."""
    _fake_container(tmp_path / "root", "c1", os.getpid())
    _fake_container(tmp_path / "root", "stopped", 2**22)  # = PID_MAX: never a live pid
    out = subprocess.run([REAL_PYTHON, "-I", "-S", "-X", "importtime", str(launcher_path),
                          "--root", str(tmp_path / "root"), *verb], capture_output=True,
                         text=True)
    loaded = _importtime_modules(out.stderr)
    assert "pyrunc.cli.main" in loaded
    assert not FORBIDDEN & loaded, sorted(FORBIDDEN & loaded)


def test_state_output_of_a_fake_container(tmp_path: Path, launcher_path: Path) -> None:
    _fake_container(tmp_path / "root", "c1", os.getpid())
    out = subprocess.run([str(launcher_path), "--root", str(tmp_path / "root"), "state", "c1"],
                         capture_output=True, text=True, check=True)
    st = json.loads(out.stdout)
    assert st["status"] == "running" and st["pid"] == os.getpid() and st["id"] == "c1"
    assert out.stderr == ""


@pytest.mark.parametrize(("argv", "needle"), [
    (["--systemd-cgroup", "create", "x"], "not supported"),
    (["--systemd-cgroup", "run", "x"], "not supported"),
    (["nosuchverb"], "nosuchverb"),
    (["--log-format", "xml", "list"], "xml"),
    (["--nosuchflag", "list"], "nosuchflag"),
    (["state"], "state"),
    (["state", "a", "b"], "state"),
    (["kill"], "kill"),
    (["state", "bad/id"], "invalid container id"),
])
def test_cli_usage_errors(tmp_path: Path, launcher_path: Path, argv: list[str],
                          needle: str) -> None:
    out = subprocess.run([str(launcher_path), "--root", str(tmp_path / "root"), *argv],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert out.stdout == ""
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_help_lists_the_verbs(launcher_path: Path) -> None:
    out = subprocess.run([str(launcher_path), "--help"], capture_output=True, text=True,
                         check=True)
    for verb in ("create", "start", "run", "state", "kill", "delete", "list", "spec", "pause",
                 "resume"):
        assert f"   {verb}" in out.stdout


@pytest.mark.parametrize("verb", ["create", "start", "run", "state", "kill", "delete", "list",
                                  "spec", "pause", "resume"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_verb_help(launcher_path: Path, tmp_path: Path, verb: str, flag: str) -> None:
    """runc prints a verb's usage for `runc <verb> --help` (exit 0), without acting."""
    out = subprocess.run([str(launcher_path), "--root", str(tmp_path / "root"), verb, flag],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert verb in out.stdout
    assert not (tmp_path / "config.json").exists()  # `spec --help` must not write a spec
