"""Engine integration fixtures: real pyengined processes plus the shared registry fixtures, all
in a network namespace of the module's own (tests/fixtures/netns.py), never the machine's."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from engine_harness import Engine, new_base

from tests.fixtures import netns
from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import *  # noqa: F403


def _cleanup(engine: Engine) -> None:
    engine.stop()
    snapshots = engine.data_root / "snapshots"
    if snapshots.exists():  # nothing should be mounted; make sure before deleting
        subprocess.run(["umount", "-R", "-q", str(snapshots)], check=False,
                       stderr=subprocess.DEVNULL)
    shutil.rmtree(engine.base, ignore_errors=True)


@pytest.fixture(scope="module")
def engine():
    """One daemon per test module."""
    daemon = Engine(new_base())
    try:
        daemon.start()
        assert daemon.process is not None
        assert os.readlink(f"/proc/{daemon.process.pid}/ns/net") != netns.MACHINE
        yield daemon
    finally:
        _cleanup(daemon)


@pytest.fixture
def engine_factory():
    """Factory for daemons with their own configuration; all stopped at the end."""
    started: list[Engine] = []

    def make(config: dict | None = None, extra_args: list[str] | None = None,
             start: bool = True, program: list[str] | None = None) -> Engine:
        daemon = Engine(new_base(), config or {}, extra_args or [])
        if program is not None:
            daemon.program = program
        started.append(daemon)
        return daemon.start() if start else daemon

    try:
        yield make
    finally:
        for daemon in started:
            _cleanup(daemon)


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory):
    """The rootfs tarball tools/mkimage-busybox builds (built once per module)."""
    from engine_harness import REPO

    path = tmp_path_factory.mktemp("bb") / "rootfs.tar"
    subprocess.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(path)], check=True,
                   capture_output=True)
    return path
