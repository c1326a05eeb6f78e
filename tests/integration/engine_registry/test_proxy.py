"""Registries reached through a forward proxy: CONNECT for HTTPS, absolute URIs for HTTP."""

from __future__ import annotations

import pytest
from pyengine.content import ContentStore
from pyengine.registry import AuthenticationFailed, RegistryClient, RegistryConfig

from tests.fixtures.forwardproxy import ForwardProxy

pytestmark = pytest.mark.root

PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-Secret-9"


@pytest.fixture
def forward_proxy():
    proxy = ForwardProxy(PROXY_USER, PROXY_PASSWORD).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def proxies(proxy: ForwardProxy, **extra) -> dict[str, str]:
    url = f"http://{PROXY_USER}:{PROXY_PASSWORD}@{proxy.host}"
    return {"http": url, "https": url, **extra}


def test_tls_registry_through_connect_tunnel(tls_registry, pushed_busybox, forward_proxy,
                                             tmp_path):
    reference = pushed_busybox(tls_registry, "via/proxy", "amd64")
    config = RegistryConfig(
        certs_dir=tls_registry.certs_dir,
        credentials=lambda host: (tls_registry.username, tls_registry.password),
        proxies=proxies(forward_proxy),
    )
    with RegistryClient(config) as client:
        result = client.pull(reference, ContentStore(tmp_path / "c"))
        assert PROXY_PASSWORD not in repr(client.config)
        assert PROXY_PASSWORD not in repr(client.transport.proxies)
    assert result.layers
    assert ("CONNECT", tls_registry.host) in forward_proxy.log
    # Besides the tunnel, only the anonymous plain-HTTP ping of a loopback host went through.
    others = [t for m, t in forward_proxy.log if m != "CONNECT"]
    assert others == [f"http://{tls_registry.host}/v2/"]


def test_plain_registry_through_proxy(registry, pushed_busybox, forward_proxy, tmp_path):
    reference = pushed_busybox(registry, "via/plain", "amd64")
    config = RegistryConfig(certs_dir=None, proxies=proxies(forward_proxy))
    with RegistryClient(config) as client:
        client.pull(reference, ContentStore(tmp_path / "c"))
    targets = [target for _, target in forward_proxy.log]
    assert f"http://{registry.host}/v2/via/plain/manifests/amd64" in targets


def test_no_proxy_bypasses(registry, pushed_busybox, forward_proxy, tmp_path):
    reference = pushed_busybox(registry, "via/direct", "amd64")
    config = RegistryConfig(certs_dir=None,
                            proxies=proxies(forward_proxy, no_proxy="example.org,127.0.0.1"))
    with RegistryClient(config) as client:
        client.pull(reference, ContentStore(tmp_path / "c"))
    assert forward_proxy.log == []


def test_wrong_proxy_credentials(registry, forward_proxy, tmp_path):
    config = RegistryConfig(certs_dir=None, max_attempts=1, proxies={
        "http": f"http://{PROXY_USER}:wrong@{forward_proxy.host}"})
    with RegistryClient(config) as client, pytest.raises(AuthenticationFailed) as info:
        client.pull(f"{registry.host}/x/y:z", ContentStore(tmp_path / "c"))
    assert "proxy" in str(info.value) and "wrong" not in str(info.value)
