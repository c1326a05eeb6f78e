"""pyengine.runtime_env: which interpreter the engine's processes start on, and the launchers
keeping a venv's interpreter by its own path (resolved, it is the bare base interpreter)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pyengine import daemon_launcher, runtime_env
from pyengine.cli import launcher as pyctl_launcher
from pyrunc.launcher import parse_cli


def fake_env(tmp_path: Path) -> Path:
    """A venv's shape: bin/python, a symlink to the base interpreter."""
    (tmp_path / "bin").mkdir()
    python = tmp_path / "bin" / "python"
    python.symlink_to(os.path.realpath(sys.executable))
    (tmp_path / runtime_env.READY).touch()  # tools/setup filled it
    return python


def test_the_environment_when_setup_made_it(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    python = fake_env(tmp_path)
    monkeypatch.setenv("PYCONTAINERS_ENV", str(tmp_path))
    monkeypatch.delenv("PYENGINE_PYTHON", raising=False)
    assert runtime_env.engine_python() == str(python)  # its own path, not the resolved one


def test_this_interpreter_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYCONTAINERS_ENV", str(tmp_path / "none"))
    monkeypatch.delenv("PYENGINE_PYTHON", raising=False)
    assert runtime_env.env_python() is None
    assert runtime_env.engine_python() == os.path.abspath(sys.executable)


def test_a_half_made_environment_is_not_one(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fake_env(tmp_path)
    (tmp_path / runtime_env.READY).unlink()  # a fill that failed or was interrupted
    monkeypatch.setenv("PYCONTAINERS_ENV", str(tmp_path))
    monkeypatch.delenv("PYENGINE_PYTHON", raising=False)
    assert runtime_env.engine_python() == os.path.abspath(sys.executable)


def test_an_explicit_interpreter_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_env(tmp_path)
    monkeypatch.setenv("PYCONTAINERS_ENV", str(tmp_path))
    monkeypatch.setenv("PYENGINE_PYTHON", "/opt/other/bin/python")
    assert runtime_env.engine_python() == "/opt/other/bin/python"


def test_launchers_keep_a_venvs_interpreter_path(tmp_path: Path) -> None:
    python = str(fake_env(tmp_path))
    assert parse_cli(["--python", python, "/dest"], "m") == (python, "/dest")
    assert daemon_launcher.render(python).startswith(f"#!{python} -I\n")
    assert pyctl_launcher.render(python).startswith(f"#!{python} -IS\n")


def test_the_daemon_launcher_starts_the_daemon(tmp_path: Path) -> None:
    dest = daemon_launcher.install(str(tmp_path / "pyengined"))
    text = Path(dest).read_text()
    assert text.splitlines()[0] == f"#!{os.path.abspath(sys.executable)} -I"
    assert "from pyengine.daemon import entry" in text
    assert os.stat(dest).st_mode & 0o777 == 0o755
