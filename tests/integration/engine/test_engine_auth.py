"""login/logout and authenticated pulls and pushes: TLS + basic auth, and Bearer tokens."""

from __future__ import annotations

import base64
import json

import pytest

pytestmark = pytest.mark.root


def _config(daemon) -> dict:  # type: ignore[no-untyped-def]
    path = daemon.base / "client" / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.parametrize("kind", ["tls_basic", "token"])
def test_login_pull_push_logout(kind, request, engine_factory, pushed_busybox, busybox_tar):
    server = request.getfixturevalue("tls_registry" if kind == "tls_basic" else "token_registry")
    config = {"certs-dir": str(server.certs_dir)} if kind == "tls_basic" else {}
    daemon = engine_factory(config)
    host = server.host

    wrong = daemon.pyctl("login", "-u", server.username, "--password-stdin", host,
                         input=b"wrong-password\n")
    assert wrong.returncode == 1
    assert wrong.stderr.decode().startswith("Error response from daemon: ")
    assert _config(daemon) == {}

    ok = daemon.pyctl("login", "-u", server.username, "--password-stdin", host,
                      input=server.password.encode() + b"\n")
    assert ok.returncode == 0, ok.stderr.decode()
    assert ok.stdout.decode() == "Login Succeeded\n"
    auth = _config(daemon)["auths"][host]["auth"]
    assert base64.b64decode(auth).decode() == f"{server.username}:{server.password}"
    assert server.password not in daemon.log()

    daemon.out("import", str(busybox_tar), f"{host}/private/bb:1")
    pushed = daemon.pyctl("push", f"{host}/private/bb:1")
    assert pushed.returncode == 0, pushed.stderr.decode()
    daemon.out("rmi", f"{host}/private/bb:1")
    pulled = daemon.pyctl("pull", f"{host}/private/bb:1")
    assert pulled.returncode == 0, pulled.stderr.decode()

    assert daemon.out("logout", host) == f"Removing login credentials for {host}\n"
    assert host not in _config(daemon).get("auths", {})
    daemon.out("rmi", f"{host}/private/bb:1")
    anonymous = daemon.pyctl("pull", f"{host}/private/bb:1")
    assert anonymous.returncode == 1
    assert anonymous.stderr.decode().startswith("Error response from daemon: ")
    assert daemon.out("logout", host) == f"Not logged in to {host}\n"


def test_tls_registry_untrusted_without_ca(engine_factory, tls_registry):
    daemon = engine_factory()  # default certs dir: the test CA is unknown
    result = daemon.pyctl("login", "-u", tls_registry.username, "--password-stdin",
                          tls_registry.host, input=tls_registry.password.encode())
    assert result.returncode == 1
    assert result.stderr.decode().startswith("Error response from daemon: ")
