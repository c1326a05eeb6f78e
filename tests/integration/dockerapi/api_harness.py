"""The Docker Engine API side of a test daemon: its socket, a raw HTTP client over it, the
docker CLI 28 and docker-py pointed at it (no user configuration touched)."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctr_harness import ContainerEngine

START_TIMEOUT = 30.0


class UnixConnection(http.client.HTTPConnection):
    """http.client over a unix socket (the Host header says "localhost", as docker's does)."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.socket_path))
        self.sock = sock


@dataclass
class Reply:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class DockerApi:
    """The daemon's Docker Engine API at `socket`; clients' configuration in `config_dir`."""

    socket: Path
    config_dir: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def http(self, method: str, path: str, body: bytes | str | dict | list | None = None,
             headers: dict[str, str] | None = None, timeout: float = 60.0) -> Reply:
        """One request on a fresh connection; a dict or list body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        connection = UnixConnection(self.socket, timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return Reply(answer.status, answer.reason, answer.headers, answer.read())
        finally:
            connection.close()

    def env(self) -> dict[str, str]:
        out = dict(os.environ)
        for key in ("DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY",
                    "DOCKER_CERT_PATH"):
            out.pop(key, None)
        out["DOCKER_HOST"] = self.host
        out["DOCKER_CONFIG"] = str(self.config_dir)
        return out

    def docker(self, *args: str, input: bytes | str | None = None, check: bool = True,
               timeout: float = 300) -> subprocess.CompletedProcess:
        """The docker CLI 28 against this daemon; text output (bytes if `input` is bytes)."""
        result = subprocess.run(["docker", *args], env=self.env(), input=input,
                                capture_output=True, text=not isinstance(input, bytes),
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def client(self, timeout: int = 60) -> Any:
        """A docker-py DockerClient on this socket (close it after use)."""
        import docker

        return docker.DockerClient(base_url=self.host, timeout=timeout)

    def wait_ready(self, engine: ContainerEngine) -> DockerApi:
        """Until /_ping answers (the REST edge starts right after the gRPC one)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if engine.process is not None and engine.process.poll() is not None:
                raise RuntimeError(f"pyengined exited:\n{engine.log()}")
            try:
                if self.http("GET", "/_ping", timeout=5).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the docker API did not come up:\n{engine.log()}")


def docker_api_of(engine: ContainerEngine, config_dir: Path) -> DockerApi:
    """The Docker Engine API of a started daemon (its default socket, in its exec root)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    return DockerApi(engine.exec_root / "docker.sock", config_dir).wait_ready(engine)


def remove_volumes(engine: ContainerEngine) -> None:
    """Every volume of a running daemon (after its containers are gone)."""
    if engine.process is None or engine.process.poll() is not None:
        return
    result = engine.pyctl("volume", "ls", "-q")
    names = result.stdout.decode().split() if result.returncode == 0 else []
    if names:
        engine.pyctl("volume", "rm", "-f", *names)


def tar_of(name: str, data: bytes) -> bytes:
    """A tar holding one file `name` with `data` (an archive PUT's body)."""
    blob = io.BytesIO()
    with tarfile.open(fileobj=blob, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return blob.getvalue()
