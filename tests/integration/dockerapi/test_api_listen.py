"""Where pyengined serves the Docker Engine API (--docker-api): its default root-only unix
socket, `none`, tcp:// only with mutual TLS (refused at start-up otherwise), and a stop that
ends open streams instead of waiting for them."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import DockerApi, UnixConnection, docker_api_of
from ctr_harness import ContainerEngine, cleanup
from engine_harness import env, new_base

from tests.fixtures import pki


@pytest.fixture
def daemons() -> Iterator[list[ContainerEngine]]:
    """Daemons a test starts; each stopped and removed (by pid and path) after it."""
    started: list[ContainerEngine] = []
    try:
        yield started
    finally:
        for daemon in started:
            cleanup(daemon)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_default_socket_is_root_only(api: DockerApi, engine: ContainerEngine) -> None:
    assert api.socket == engine.exec_root / "docker.sock"
    st = os.stat(api.socket)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert (st.st_uid, st.st_gid) == (0, 0)
    assert stat.S_IMODE(os.stat(api.socket.parent).st_mode) == 0o700


def test_none_disables_it(daemons: list[ContainerEngine]) -> None:
    daemon = ContainerEngine(new_base(), {"docker-api": ["none"]})
    daemons.append(daemon)
    daemon.start()
    assert daemon.pyctl("version").returncode == 0
    assert not (daemon.exec_root / "docker.sock").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--docker-api", "tcp://127.0.0.1:2399"],
     "docker-api 'tcp://127.0.0.1:2399': tcp listeners need mutual TLS (--tlsverify "
     "--tlscacert --tlscert --tlskey)"),
    (["--docker-api", "none", "--docker-api", "unix:///tmp/x.sock"],
     "docker-api 'none' cannot be combined with other addresses"),
    (["--docker-api", "unix://relative.sock"],
     "docker-api 'unix://relative.sock': unix socket path must be absolute"),
    (["--docker-api", "http://127.0.0.1:2399"],
     "docker-api 'http://127.0.0.1:2399': must be unix:///path or tcp://addr:port"),
])
def test_bad_addresses_are_refused(tmp_path: Path, flags: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pyengine.daemon", "--data-root", str(tmp_path / "data"),
         "--exec-root", str(tmp_path / "run"), *flags],
        env=env(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (1, f"pyengined: {message}\n")
    assert not (tmp_path / "data").exists()


def test_tcp_with_mutual_tls(daemons: list[ContainerEngine], tmp_path: Path) -> None:
    ca = pki.make_ca(tmp_path)
    server = pki.make_server_cert(tmp_path, ca)
    client = pki.make_client_cert(tmp_path, ca)
    port = _free_port()
    daemon = ContainerEngine(new_base(), extra_args=[
        "--docker-api", f"tcp://127.0.0.1:{port}", "--tlsverify",
        "--tlscacert", str(ca.cert_path), "--tlscert", str(server.cert_path),
        "--tlskey", str(server.key_path)])
    daemon.module_network = True  # its 127.0.0.1 is this module's (tests/fixtures/netns.py)
    daemons.append(daemon)
    daemon.start()
    assert not (daemon.exec_root / "docker.sock").exists()  # only the addresses given

    def ping(context: ssl.SSLContext) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context,
                                                 timeout=60)
        connection.request("GET", "/_ping")
        return connection.getresponse()

    with_cert = ssl.create_default_context(cafile=str(ca.cert_path))
    with_cert.load_cert_chain(str(client.cert_path), str(client.key_path))
    for _ in range(600):  # the REST edge listens right after the gRPC one
        try:
            answer = ping(with_cert)
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    assert (answer.status, answer.read()) == (200, b"OK")
    without_cert = ssl.create_default_context(cafile=str(ca.cert_path))
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        ping(without_cert).read()
    # the docker CLI with docker's certificate layout
    certs = tmp_path / "docker-certs"
    certs.mkdir()
    for source, name in ((ca.cert_path, "ca.pem"), (client.cert_path, "cert.pem"),
                         (client.key_path, "key.pem")):
        (certs / name).write_bytes(source.read_bytes())
    cli_env = dict(os.environ, DOCKER_HOST=f"tcp://127.0.0.1:{port}", DOCKER_TLS_VERIFY="1",
                   DOCKER_CERT_PATH=str(certs), DOCKER_CONFIG=str(tmp_path / "config"))
    version = subprocess.run(["docker", "version", "--format", "{{.Server.APIVersion}}"],
                             env=cli_env, capture_output=True, text=True, timeout=120)
    assert (version.returncode, version.stdout) == (0, "1.41\n"), version.stderr


def test_stop_ends_open_streams(daemons: list[ContainerEngine], tmp_path: Path) -> None:
    daemon = ContainerEngine(new_base())
    daemons.append(daemon)
    daemon.start()
    api = docker_api_of(daemon, tmp_path / "config")
    connection = UnixConnection(api.socket, timeout=120)  # a hang guard, not a measure
    try:
        connection.request("GET", "/events")
        stream = connection.getresponse()
        assert stream.status == 200
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGTERM)
        try:
            rest = stream.read()
        except (http.client.IncompleteRead, ConnectionResetError):
            rest = b""
        assert rest == b""
        assert daemon.process.wait(timeout=120) == 0
    finally:
        connection.close()
    assert not api.socket.exists()
    assert "daemon shutdown complete" in daemon.log()
