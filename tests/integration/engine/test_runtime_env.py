"""tools/setup's runtime environment (pyengine.runtime_env): pyengined, pyctl and our shim run
on a venv of the distribution's python3, at the package versions the tests run, whenever that
python3 can make one; else on the tests' interpreter."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest
from engine_harness import env
from pyengine.runtime_env import env_python

pytestmark = pytest.mark.root

DISTRO = "/usr/bin/python3"
LAUNCHERS = ("/usr/local/sbin/pyengined", "/usr/local/bin/pyctl",
             "/usr/local/bin/containerd-shim-pyrunc-v2")
# the runtime environment's packages whose versions the tests pin by running them
PACKAGES = ("aiohttp", "uvloop", "grpcio", "protobuf", "cryptography", "pyroute2", "multidict")


def distro_makes_venvs() -> bool:
    """What tools/setup asks of the distribution's python3 before it makes the environment."""
    probe = "import sys, venv; assert sys.version_info >= (3, 11)"
    try:
        return subprocess.run([DISTRO, "-c", probe], capture_output=True,
                              timeout=60).returncode == 0
    except OSError:
        return False


def expected_python() -> str:
    if distro_makes_venvs():
        python = env_python()
        assert python is not None, ("tools/setup made no runtime environment although "
                                    f"{DISTRO} can (see its warning: the venv or its fill failed)")
        return python
    return os.path.abspath(sys.executable)


def interpreter_of(launcher: str) -> str:
    with open(launcher) as f:
        first = f.readline()
    assert first.startswith("#!"), launcher
    return first[2:].split()[0]


def test_the_launchers_name_the_runtime_environment() -> None:
    python = expected_python()
    for launcher in LAUNCHERS:
        assert interpreter_of(launcher) == python, launcher
    if distro_makes_venvs():
        # the distribution's build, through the venv's own path
        assert os.path.realpath(python) == os.path.realpath(DISTRO)
    # the shim imports what containerd's start of it needs, there
    shim = subprocess.run([LAUNCHERS[2], "-v"], capture_output=True, text=True, timeout=60)
    assert shim.returncode == 0 and "containerd-shim-pyrunc-v2" in shim.stdout, shim.stderr


def test_the_environment_runs_the_tests_package_versions() -> None:
    python = expected_python()
    script = ("import importlib.metadata as m, json, sys; "
              "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))")
    out = subprocess.run([python, "-c", script, *PACKAGES], capture_output=True, text=True,
                         check=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert json.loads(out.stdout) == {p: importlib.metadata.version(p) for p in PACKAGES}


def test_the_installed_daemon_and_pyctl_run_on_it(engine_factory) -> None:
    daemon = engine_factory(program=["/usr/local/sbin/pyengined"])
    assert daemon.process is not None
    exe = os.path.realpath(f"/proc/{daemon.process.pid}/exe")
    assert exe == os.path.realpath(expected_python())
    client = dict(env(), PYENGINE_HOST=daemon.host, PYCTL_CONFIG=str(daemon.base / "client"))
    version = subprocess.run(["/usr/local/bin/pyctl", "version"], env=client,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert "server" in version.stdout.lower()
