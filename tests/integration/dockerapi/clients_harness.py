"""The two daemons the client tests (docker-py, docker-compose) drive the same way: a private
dockerd 20.10 (the reference: tools/bench/engine.py's `Dockerd`, with its default bridge) and
pyengined of this checkout serving the Docker Engine API (on its default socket,
EXEC_ROOT/docker.sock: api_harness.docker_api_of). Each runs
in a network namespace of its own that the calling thread enters for the block
(tests/fixtures/netns.py), so what the test starts meanwhile (a registry on 127.0.0.1, curl)
meets the daemon there and nothing reaches the machine's network. Both get the offline busybox
image (tools/mkimage-busybox's rootfs, imported with CMD sh), set up through the daemon's own
client (`docker import`, `pyctl import`): the clients under test only see the result. Everything
is removed by id, pid and path afterwards, also when a test fails."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "engine_containers"))
sys.path.insert(0, str(HERE.parent / "engine"))
sys.path.insert(0, str(HERE.parent / "engine_network"))
sys.path.insert(0, str(HERE.parents[2] / "tools" / "bench"))

from api_harness import DockerApi, docker_api_of, remove_volumes  # noqa: E402
from ctr_harness import ContainerEngine, busybox_rootfs, cleanup, install_launcher  # noqa: E402
from engine_harness import new_base  # noqa: E402
from net_harness import remove_everything  # noqa: E402

import engine as bench_engine  # noqa: E402 - tools/bench/engine.py: the private dockerd
from tests.fixtures import netns  # noqa: E402

DAEMONS = ("dockerd", "pyengined")


@dataclass
class Daemon(DockerApi):
    """One running daemon as a Docker API client sees it (api_harness.DockerApi: its socket,
    raw HTTP, the docker CLI 28, docker-py)."""

    kind: str = "pyengined"  # or "dockerd"
    engine: ContainerEngine | None = None  # pyengined's, for set-up through pyctl

    def reset(self) -> None:
        """Every container, user network and volume removed (what a test leaves), through the
        daemon's own client: the API under test may be what failed."""
        if self.engine is not None:
            remove_everything(self.engine)
            remove_volumes(self.engine)
            return
        ids = self.docker("ps", "-aq", check=False).stdout.split()
        if ids:
            self.docker("rm", "-f", "-v", *ids, check=False)
        self.docker("network", "prune", "-f", check=False)
        self.docker("volume", "prune", "-f", check=False)

    def load(self, archive: Path) -> None:
        """An image archive loaded as set-up, through the daemon's own client (`docker load`,
        `pyctl load`), not the API under test."""
        if self.engine is None:
            self.docker("load", "-q", "-i", str(archive), timeout=900)
        else:
            self.engine.pyctl("load", "-q", "-i", str(archive), check=True)


@contextlib.contextmanager
def running(kind: str, launcher: Path, busybox: Path) -> Iterator[Daemon]:
    """`kind`'s daemon with busybox:latest, in a fresh network namespace the calling thread
    stays in until the block ends."""
    with netns.entered():
        if kind == "dockerd":
            with _dockerd(busybox) as daemon:
                yield daemon
        else:
            with _pyengined(launcher, busybox) as daemon:
                yield daemon


def started(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A module fixture's body: `kind`'s daemon with pyrunc's launcher of this checkout and the
    busybox image."""
    launcher = install_launcher(tmp_path_factory.mktemp("bin"))
    busybox = busybox_rootfs(tmp_path_factory.mktemp("bb"))
    with running(kind, launcher, busybox) as daemon:
        yield daemon


@contextlib.contextmanager
def _dockerd(busybox: Path) -> Iterator[Daemon]:
    base = Path(tempfile.mkdtemp(prefix="pe-dockerd-", dir="/tmp"))
    dockerd = bench_engine.Dockerd(base, bridge=True)
    try:
        dockerd.start()
        daemon = Daemon(dockerd.socket, base / "client", "dockerd")
        daemon.docker("import", "-c", 'CMD ["sh"]', str(busybox), "busybox:latest")
        yield daemon
    finally:
        try:
            dockerd.stop()
        finally:
            bench_engine.env.remove_tree(base)


@contextlib.contextmanager
def _pyengined(launcher: Path, busybox: Path) -> Iterator[Daemon]:
    engine = ContainerEngine(new_base(), {"default-runtime": str(launcher)})
    engine.module_network = True  # the namespace the caller entered
    engine.launcher = launcher  # type: ignore[attr-defined]  # read by cleanup()
    try:
        engine.start()
        engine.pyctl("import", "-c", 'CMD ["sh"]', str(busybox), "busybox:latest", check=True)
        api = docker_api_of(engine, engine.base / "client")  # its default socket, once up
        yield Daemon(api.socket, api.config_dir, "pyengined", engine)
    finally:
        try:
            remove_everything(engine)
        finally:
            cleanup(engine)


