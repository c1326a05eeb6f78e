"""pyengined as a process: socket permissions, pid file, data-root lock, config errors,
graceful SIGTERM, gRPC status codes, pyctl exit codes, TCP with mutual TLS."""

from __future__ import annotations

import datetime
import os
import socket
import stat
import subprocess
import sys

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from engine_harness import Engine, env, new_base
from pyengine.api import images_pb2, images_pb2_grpc, system_pb2, system_pb2_grpc

from tests.fixtures import pki

pytestmark = pytest.mark.root


def run_daemon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyengine.daemon", *args], env=env(),
                          capture_output=True, text=True, timeout=60)


def test_socket_pidfile_lock_and_graceful_stop(engine_factory) -> None:
    daemon = engine_factory()
    info = os.stat(daemon.socket)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert (info.st_uid, info.st_gid) == (0, 0)
    assert stat.S_IMODE(os.stat(daemon.socket.parent).st_mode) == 0o700
    pidfile = daemon.exec_root / "pyengined.pid"
    assert pidfile.read_text().strip() == str(daemon.process.pid)

    other = new_base()
    try:
        second = run_daemon("-H", f"unix://{other}/sock", "--data-root", str(daemon.data_root),
                            "--exec-root", str(other / "run"))
        assert second.returncode == 1
        assert "in use by another pyengined" in second.stderr
        assert str(daemon.data_root) in second.stderr
    finally:
        subprocess.run(["rm", "-rf", str(other)], check=False)

    assert daemon.stop() == 0
    assert not daemon.socket.exists()
    assert not pidfile.exists()
    log = daemon.log()
    assert '"msg": "daemon shutdown complete"' in log


@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_the_event_loop_is_the_one_asked_for(engine_factory, kind: str) -> None:
    """uvloop's by default (--event-loop, config event-loop), asyncio's on request; the
    start-up log names the one in use, and the daemon serves on either."""
    daemon = engine_factory(**({"extra_args": ["--event-loop", kind]} if kind == "asyncio"
                               else {}))
    assert f'"event_loop": "{kind}"' in daemon.log()
    result = subprocess.run([sys.executable, "-m", "pyengine.cli", "version"], env=env() | {
        "PYENGINE_HOST": daemon.host}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_config_errors_refuse_to_start(tmp_path) -> None:
    bad = tmp_path / "daemon.json"
    bad.write_text('{"no-such-option": true}')
    result = run_daemon("--config-file", str(bad), "--data-root", str(tmp_path / "d"))
    assert result.returncode == 1 and "unknown keys: no-such-option" in result.stderr
    result = run_daemon("-H", "tcp://127.0.0.1:2376", "--data-root", str(tmp_path / "d"))
    assert result.returncode == 1 and "mutual TLS" in result.stderr
    result = run_daemon("--event-loop", "trio", "--data-root", str(tmp_path / "d"))
    assert result.returncode == 2 and "invalid choice: 'trio'" in result.stderr
    bad.write_text('{"event-loop": "trio"}')
    result = run_daemon("--config-file", str(bad), "--data-root", str(tmp_path / "d"))
    assert result.returncode == 1 and "event-loop 'trio': must be one of uvloop, asyncio" \
        in result.stderr
    assert not (tmp_path / "d").exists()


def test_grpc_status_codes(engine) -> None:
    with engine.channel() as channel:
        images = images_pb2_grpc.ImagesServiceStub(channel)
        system = system_pb2_grpc.SystemServiceStub(channel)
        assert system.Version(system_pb2.VersionRequest()).api_version == "pyengine.v1"
        with pytest.raises(grpc.RpcError) as err:
            images.Inspect(images_pb2.InspectImageRequest(reference="nosuch"))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert err.value.details() == "No such image: nosuch:latest"
        with pytest.raises(grpc.RpcError) as err:
            images.Tag(images_pb2.TagImageRequest(source="nosuch", target="Bad Name"))
        assert err.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
        with pytest.raises(grpc.RpcError) as err:
            images.Inspect(images_pb2.InspectImageRequest(reference="a:b:c:d"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        closed = _closed_port()
        with pytest.raises(grpc.RpcError) as err:
            list(images.Pull(images_pb2.PullRequest(reference=f"127.0.0.1:{closed}/x:1")))
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert f"127.0.0.1:{closed}" in err.value.details()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_pyctl_exit_codes(engine) -> None:
    usage = engine.pyctl("images", "--no-such-flag")
    assert usage.returncode == 125
    missing = engine.pyctl("inspect", "nosuch")
    assert missing.returncode == 1
    assert missing.stdout.decode().strip() == "[]"
    # neither a container nor an image: docker's CLI says so itself
    assert missing.stderr.decode() == "Error: No such object: nosuch\n"
    missing_image = engine.pyctl("image", "inspect", "nosuch")
    assert missing_image.returncode == 1
    assert missing_image.stderr.decode() == (
        "Error response from daemon: No such image: nosuch:latest\n")
    rmi = engine.pyctl("rmi", "nosuch")
    assert rmi.returncode == 1 and rmi.stderr.decode().startswith("Error response from daemon:")
    offline = engine.pyctl("-H", "unix:///nonexistent/pyengine.sock", "images")
    assert offline.returncode == 1
    assert b"Cannot connect to the pyengine daemon at unix:///nonexistent" in offline.stderr


def _client_cert(directory, ca: pki.KeyPair) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    cert_path, key_path = directory / "client.pem", directory / "client-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tcp_requires_client_certificates(tmp_path) -> None:
    ca = pki.make_ca(tmp_path / "ca")
    server = pki.make_server_cert(tmp_path / "server", ca)
    (tmp_path / "client").mkdir()
    cert, key = _client_cert(tmp_path / "client", ca)
    port = _closed_port()
    daemon = Engine(new_base(), extra_args=[
        "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(ca.cert_path),
        "--tlscert", str(server.cert_path), "--tlskey", str(server.key_path)])
    try:
        daemon.start()  # the unix socket answers first; then try TCP
        tls = ["-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(ca.cert_path)]
        ok = daemon.pyctl(*tls, "--tlscert", cert, "--tlskey", key, "images", "-q")
        assert ok.returncode == 0, ok.stderr
        creds = grpc.ssl_channel_credentials(root_certificates=ca.cert_path.read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{port}", creds) as channel:
            with pytest.raises(grpc.RpcError) as err:
                system_pb2_grpc.SystemServiceStub(channel).Ping(system_pb2.PingRequest(),
                                                                timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        daemon.stop()
        subprocess.run(["rm", "-rf", str(daemon.base)], check=False)


def test_sighup_reloads_registry_options(engine_factory) -> None:
    import json
    import signal
    import time

    daemon = engine_factory({"insecure-registries": ["a.example:5000"]})
    assert "a.example:5000" in daemon.out("info")
    (daemon.base / "daemon.json").write_text(json.dumps(
        {"insecure-registries": ["b.example:5000"], "storage-driver": "native"}))
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while "b.example:5000" not in daemon.out("info"):
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.1)
    info = daemon.out("info")
    assert "a.example:5000" not in info
    assert "Storage Driver: overlay" in info  # needs a restart: unchanged
    assert "configuration reloaded" in daemon.log() and "storage_driver" in daemon.log()
