"""TLS + Basic auth and Bearer token auth against real registries; secrets stay secret."""

from __future__ import annotations

import logging

import pytest
from pyengine.content import ContentStore
from pyengine.errors import NotFound, Unauthenticated, Unavailable
from pyengine.registry import AuthenticationFailed, RegistryClient, RegistryConfig

pytestmark = pytest.mark.root


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path / "content")


def client_for(server, password: str | None = None, certs_dir=None,
               max_attempts_override: int = 2, **kw) -> RegistryClient:
    if password is None:
        password = server.password

    def lookup(host: str):
        return (server.username, password) if host == server.host else None

    return RegistryClient(
        RegistryConfig(
            certs_dir=certs_dir if certs_dir is not None else server.certs_dir,
            credentials=lookup,
            backoff_initial=0.01,
            max_attempts=max_attempts_override,
            **kw,
        )
    )


def assert_secret_hidden(secret: str, *texts: str, caplog=None) -> None:
    for text in texts:
        assert secret not in text
    if caplog is not None:
        for record in caplog.records:
            assert secret not in record.getMessage()


def test_tls_basic_auth_pull(tls_registry, pushed_busybox, store, caplog):
    reference = pushed_busybox(tls_registry, "secure/bb", "amd64")
    with caplog.at_level(logging.DEBUG, logger="pyengine.registry"), client_for(
        tls_registry
    ) as client:
        result = client.pull(reference, store)
        assert tls_registry.password not in repr(client.config)
    assert store.exists(result.manifest_digest)
    assert client.base_url(tls_registry.host).startswith("https://")
    assert_secret_hidden(tls_registry.password, caplog=caplog)


def test_tls_wrong_password(tls_registry, pushed_busybox, store, caplog):
    reference = pushed_busybox(tls_registry, "secure/bb", "amd64")
    wrong = "definitely-wrong-password"
    with caplog.at_level(logging.DEBUG), client_for(tls_registry, password=wrong) as client:
        with pytest.raises(AuthenticationFailed) as info:
            client.pull(reference, store)
        with pytest.raises(AuthenticationFailed) as login_info:
            client.check_login(tls_registry.host, tls_registry.username, wrong)
    assert isinstance(info.value, Unauthenticated)
    assert "401" in str(info.value) or "require login" in str(info.value)
    assert "incorrect username or password" in str(login_info.value)
    assert_secret_hidden(wrong, str(info.value), repr(info.value), str(login_info.value),
                         caplog=caplog)
    assert list(store.walk()) == []


def test_tls_without_credentials(tls_registry, pushed_busybox, store):
    reference = pushed_busybox(tls_registry, "secure/bb", "amd64")
    config = RegistryConfig(certs_dir=tls_registry.certs_dir)
    with RegistryClient(config) as client, pytest.raises(AuthenticationFailed) as info:
        client.pull(reference, store)
    assert "no credentials" in str(info.value)


def test_tls_unknown_ca_is_refused(tls_registry, store, tmp_path):
    client = client_for(tls_registry, certs_dir=tmp_path / "empty-certs")
    with client, pytest.raises(Unavailable) as info:
        client.pull(f"{tls_registry.host}/secure/bb:amd64", store)
    message = str(info.value)
    assert "certificate" in message and "ca.crt" in message


def test_tls_check_login(tls_registry):
    with RegistryClient(RegistryConfig(certs_dir=tls_registry.certs_dir)) as client:
        host = client.check_login(tls_registry.host, tls_registry.username,
                                  tls_registry.password)
        assert host == tls_registry.host
        # The login is remembered by this client: 404 (not 401) for an unknown repository.
        with pytest.raises(NotFound):
            client.tags(f"{tls_registry.host}/none/here")


def test_token_auth_pull_and_refresh(token_registry, pushed_busybox, store):
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    tokens = token_registry.token_server
    with client_for(token_registry) as client:
        result = client.pull(reference, store)
        assert store.exists(result.manifest_digest)
        asked = [r for r in tokens.requests if r["user"] == token_registry.username]
        assert asked and asked[-1]["scopes"] == ["repository:private/bb:pull"]
        assert asked[-1]["service"] == "pyengine-test-registry"
        # Poison the cached tokens: the registry answers 401 and the client fetches anew.
        from pyengine.registry.auth import Token

        before = len(tokens.requests)
        with client.auth._lock:
            for key in list(client.auth._tokens):
                client.auth._tokens[key] = Token("not-a-valid-token", 4e9)
        assert client.tags(f"{token_registry.host}/private/bb") == ["amd64"]
        assert len(tokens.requests) > before


def test_token_auth_wrong_credentials(token_registry, pushed_busybox, store, caplog):
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    wrong = "wrong-token-password"
    with caplog.at_level(logging.DEBUG), client_for(token_registry, password=wrong) as client:
        with pytest.raises(AuthenticationFailed) as info:
            client.pull(reference, store)
        with pytest.raises(AuthenticationFailed):
            client.check_login(token_registry.host, token_registry.username, wrong)
    message = str(info.value)
    assert "401" in message and token_registry.username in message
    assert_secret_hidden(wrong, message, caplog=caplog)


def test_token_auth_anonymous(token_registry, pushed_busybox, store):
    pushed_busybox(token_registry, "public/busybox", "amd64")
    pushed_busybox(token_registry, "private/bb", "amd64")
    with RegistryClient(RegistryConfig(certs_dir=None, max_attempts=2)) as client:
        result = client.pull(f"{token_registry.host}/public/busybox:amd64", store)
        assert store.exists(result.config_digest)
        with pytest.raises(AuthenticationFailed) as info:
            client.pull(f"{token_registry.host}/private/bb:amd64", store)
    assert "may require login" in str(info.value)


def test_token_check_login_then_push(token_registry, pushed_busybox, store):
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    with RegistryClient(RegistryConfig(certs_dir=None)) as client:
        client.check_login(token_registry.host, token_registry.username,
                           token_registry.password)
        result = client.pull(reference, store)
        client.push(f"{token_registry.host}/private/copy:v1", store, result.manifest_digest,
                    mount_from=["private/bb"])
        assert client.tags(f"{token_registry.host}/private/copy") == ["v1"]


def test_token_server_errors_are_retried(token_registry, pushed_busybox, store):
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    token_registry.token_server.fail_next = 2
    with client_for(token_registry, max_attempts_override=4) as client:
        result = client.pull(reference, store)
    assert store.exists(result.manifest_digest)
    assert token_registry.token_server.fail_next == 0


def test_identity_token_uses_oauth2_refresh_grant(token_registry, pushed_busybox, store):
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    tokens = token_registry.token_server
    tokens.refresh_tokens["refresh-abc-123"] = token_registry.username
    config = RegistryConfig(certs_dir=None, credentials=lambda host: ("<token>", "refresh-abc-123"))
    with RegistryClient(config) as client:
        result = client.pull(reference, store)
    assert store.exists(result.manifest_digest)
    grants = [r for r in tokens.requests if r.get("grant") == "refresh_token"]
    assert grants and grants[-1]["scopes"] == ["repository:private/bb:pull"]
    bad = RegistryConfig(certs_dir=None, credentials=lambda host: ("<token>", "revoked"))
    with RegistryClient(bad) as client, pytest.raises(AuthenticationFailed) as info:
        client.pull(reference, store)
    assert "identity token" in str(info.value) and "revoked" not in str(info.value)


def test_client_certificate_from_certs_dir(mtls_registry, pushed_busybox, store):
    host_dir = mtls_registry.certs_dir / mtls_registry.host
    reference = pushed_busybox(mtls_registry, "mtls/bb", "amd64", cert_dir=host_dir)
    with RegistryClient(RegistryConfig(certs_dir=mtls_registry.certs_dir)) as client:
        result = client.pull(reference, store)
    assert store.exists(result.manifest_digest)
    config = RegistryConfig(certs_dir=mtls_registry.ca_only_dir, max_attempts=1)
    with RegistryClient(config) as client, pytest.raises(Unavailable):
        client.pull(reference, ContentStore(store.root.parent / "other"))
