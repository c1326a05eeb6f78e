"""What the network and volume REST tests use (`nv`): the module's daemon, the docker CLI 28,
docker-py and raw HTTP on its docker socket, pyctl, and `run` for containers.

On the shared harness (conftest.py + api_harness.py) when it is there; before it was merged, a
stand-in daemon of this file's own (netvol_daemon.py: pyengined under `unshare --net` serving
the REST edge). `run` is `docker run` once the REST containers endpoints exist
(dockerapi/containers.py), `pyctl run` before. Clean-up by name, id and path."""

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

SHARED = (HERE / "api_harness.py").exists()
REST_CONTAINERS = (HERE.parents[2] / "engine" / "pyengine" / "dockerapi" /
                   "containers.py").exists()


class NetVol:
    """The module's daemon as these tests drive it."""

    def __init__(self, engine: ContainerEngine, socket: Path, config_dir: Path) -> None:
        self.engine = engine
        self.docker_socket = socket
        self.config_dir = config_dir

    @property
    def data_root(self) -> Path:
        return self.engine.data_root

    def pyctl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return self.engine.pyctl(*args, check=check)

    def out(self, *args: str) -> str:
        return self.engine.out(*args)

    def run(self, *args: str) -> str:
        """A container (`docker run ARGS`, or pyctl's until the REST edge has containers);
        its output."""
        if REST_CONTAINERS:
            return self.docker("run", *args, check=True).stdout.decode()
        return self.engine.out("run", *args)

    def docker(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        run_env = env()
        for key in ("DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
            run_env.pop(key, None)
        run_env["DOCKER_HOST"] = f"unix://{self.docker_socket}"
        run_env["DOCKER_CONFIG"] = str(self.config_dir)
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

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=f"unix://{self.docker_socket}", version="1.41")


def remove_everything(engine: ContainerEngine) -> None:
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


if SHARED:
    from api_harness import DockerApi

    @pytest.fixture(name="nv")
    def nv_fixture(engine: ContainerEngine, api: DockerApi) -> NetVol:
        return NetVol(engine, api.socket, api.config_dir)

    @pytest.fixture(name="nothing_left")
    def leave_nothing() -> None:
        """(the shared conftest's nothing_outlives_its_test does it)"""

else:
    class StandInEngine(ContainerEngine):
        """pyengined run by netvol_daemon.py (the REST edge on EXEC_ROOT/docker.sock)."""

        launcher = Path("pyrunc")  # this checkout's, set at start (ctr_harness.cleanup's)

        def command(self) -> list[str]:
            cmd = super().command()
            at = cmd.index("-m")
            return [*cmd[:at], str(HERE / "netvol_daemon.py"), *cmd[at + 2:]]

    @pytest.fixture(scope="module", name="nv")
    def nv_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetVol]:
        tmp = tmp_path_factory.mktemp("netvol")
        launcher = install_launcher(tmp)
        made = StandInEngine(new_base(), {"default-runtime": str(launcher)})
        made.launcher = launcher
        socket = made.exec_root / "docker.sock"
        os.environ["PYENGINE_TEST_DOCKER_API"] = str(socket)
        try:
            try:
                made.start()
            finally:
                del os.environ["PYENGINE_TEST_DOCKER_API"]
            deadline = time.monotonic() + START_TIMEOUT  # (the REST socket follows gRPC's)
            while not socket.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            made.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_rootfs(tmp)),
                       "busybox:latest", check=True)
            yield NetVol(made, socket, made.base / "docker-config")
        finally:
            cleanup(made)

    @pytest.fixture(autouse=True, name="nothing_left")
    def leave_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        if "nv" in request.fixturenames:
            remove_everything(request.getfixturevalue("nv").engine)
