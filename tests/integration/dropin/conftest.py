"""Session fixtures for the drop-in tests: a private containerd and podman, one busybox image.

Every test takes the ``runtime`` fixture, parametrized over Debian's runc and pyrunc (test ids
end in ``[runc]`` or ``[pyrunc]``), so each behaviour is checked with both.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dropin_env as env

RUNTIMES = ("runc", "pyrunc")


class Runtime:
    """A runtime under test: its name (test id) and the absolute path handed to the manager."""

    def __init__(self, name: str, path: str, state_root: str) -> None:
        self.name = name
        self.path = path
        self.state_root = state_root  # default --root (what podman uses)

    def __repr__(self) -> str:
        return f"Runtime({self.name}, {self.path})"


def _require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"missing programs: {', '.join(missing)}")


@pytest.fixture(scope="session")
def dropin_base():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = env.make_base("dropin-")
    yield base
    env.remove_tree(base)


@pytest.fixture(scope="session")
def busybox_archive(dropin_base: Path) -> Path:
    _require("umoci", "skopeo")
    return env.build_busybox_archive(dropin_base / "image")


@pytest.fixture(scope="session")
def runtimes(dropin_base: Path) -> dict[str, Runtime]:
    pyrunc = env.install_pyrunc(dropin_base / "pyrunc-bin")
    return {"runc": Runtime("runc", env.RUNC, "/run/runc"),
            "pyrunc": Runtime("pyrunc", str(pyrunc), "/run/pyrunc")}


@pytest.fixture(params=RUNTIMES)
def runtime(request, runtimes) -> Runtime:
    return runtimes[request.param]


@pytest.fixture(scope="session")
def containerd(dropin_base: Path, busybox_archive: Path):
    _require("containerd", "ctr", "containerd-shim-runc-v2")
    daemon = env.Containerd(dropin_base / "containerd", namespace=f"dropin{os.getpid()}")
    daemon.base.mkdir(parents=True)
    try:
        daemon.start()
        daemon.import_image(busybox_archive)
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def podman(dropin_base: Path, busybox_archive: Path):
    _require("podman", "conmon")
    manager = env.Podman(dropin_base / "podman")
    manager.setup()
    try:
        manager.load(busybox_archive)
        yield manager
    finally:
        manager.stop()


_counter = itertools.count()


@pytest.fixture
def new_id(request, runtime: Runtime):
    """Container names that say which test and runtime made them."""
    def make() -> str:
        base = request.node.originalname.removeprefix("test_").replace("_", "-")[:24]
        return f"{base.strip('-')}-{runtime.name}-{os.getpid()}-{next(_counter)}"
    return make


@pytest.fixture
def ctr(containerd, runtime, new_id):
    """ctr on the private containerd with ``--runc-binary`` = the runtime under test."""
    from dropin_clients import Ctr

    helper = Ctr(containerd, runtime, new_id)
    yield helper
    helper.cleanup()


@pytest.fixture
def pod(podman, runtime, new_id):
    """podman on the private set-up with ``--runtime`` = the runtime under test."""
    from dropin_clients import Pod

    helper = Pod(podman, runtime, new_id)
    yield helper
    helper.cleanup()
