"""Fixtures of the network and volume REST tests (a stand-in until the shared dockerapi harness
is merged): one pyengined per module under `unshare --net` serving the REST edge on a socket of
its exec root, the docker CLI 28 and docker-py pointed at it, clean-up by name and id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ctr_harness import ContainerEngine, busybox_rootfs, cleanup, install_launcher
from engine_harness import START_TIMEOUT, env, new_base

HERE = Path(__file__).resolve().parent


class RestEngine(ContainerEngine):
    launcher = Path("pyrunc")  # this checkout's, set at start (ctr_harness.cleanup uses it)

    @property
    def docker_socket(self) -> Path:
        return self.exec_root / "docker.sock"

    def command(self) -> list[str]:
        cmd = super().command()
        at = cmd.index("-m")
        return [*cmd[:at], str(HERE / "netvol_daemon.py"), *cmd[at + 2:]]

    def docker(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        run_env = env()
        run_env["DOCKER_HOST"] = f"unix://{self.docker_socket}"
        run_env["DOCKER_CONFIG"] = str(self.base / "docker-config")
        result = subprocess.run(["docker", *args], env=run_env, capture_output=True,
                                timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout.decode()}\n{result.stderr.decode()}")
        return result

    def docker_json(self, *args: str) -> Any:
        return json.loads(self.docker(*args, check=True).stdout)

    def http(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A raw request on the docker socket: (status, decoded JSON body or None)."""
        import http.client
        import socket

        class Conn(http.client.HTTPConnection):
            def connect(conn) -> None:
                conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.sock.connect(str(self.docker_socket))

        conn = Conn("localhost", timeout=120)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw.strip() else None


def start(engine: RestEngine, tmp: Path) -> None:
    """The daemon (its REST socket answering) and the offline busybox image."""
    os.environ["PYENGINE_TEST_DOCKER_API"] = str(engine.docker_socket)
    try:
        engine.start()
    finally:
        del os.environ["PYENGINE_TEST_DOCKER_API"]
    deadline = time.monotonic() + START_TIMEOUT  # (the REST socket follows the gRPC one)
    while not engine.docker_socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    engine.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_rootfs(tmp)), "busybox:latest",
                 check=True)


def remove_everything(engine: RestEngine) -> None:
    """Containers, user networks and volumes a test left (through the gRPC edge: it does not
    depend on what is tested here)."""
    if engine.process is None or engine.process.poll() is not None:
        return
    ids = engine.ids()
    if ids:
        engine.pyctl("rm", "-f", *ids)
    for kind, flags in (("network", ("--filter", "type=custom")), ("volume", ())):
        result = engine.pyctl(kind, "ls", "-q", *flags)
        names = result.stdout.decode().split() if result.returncode == 0 else []
        if names:
            engine.pyctl(kind, "rm", *names)


@pytest.fixture(scope="module", name="engine")
def rest_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestEngine]:
    tmp = tmp_path_factory.mktemp("netvol")
    launcher = install_launcher(tmp)
    made = RestEngine(new_base(), {"default-runtime": str(launcher)})
    made.launcher = launcher
    try:
        start(made, tmp)
        yield made
    finally:
        cleanup(made)


@pytest.fixture(autouse=True, name="nothing_outlives_its_test")
def leave_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames:
        remove_everything(request.getfixturevalue("engine"))
