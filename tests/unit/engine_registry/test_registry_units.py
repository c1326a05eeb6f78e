"""Registry client pieces that need no server: media types, platforms, challenges, secrets."""

from __future__ import annotations

import json

import pytest
from pyengine.registry import media_types as mt
from pyengine.registry.auth import Token, basic_header, parse_challenges
from pyengine.registry.client import RegistryClient, _error_codes, registry_host
from pyengine.registry.config import Credentials, RegistryConfig, split_host
from pyengine.registry.descriptor import (
    Descriptor,
    Platform,
    parse_index,
    parse_manifest,
    select_platform,
)
from pyengine.registry.errors import (
    InsecureRegistry,
    InvalidManifest,
    PlatformNotFound,
    Schema1Unsupported,
)
from pyengine.registry.pull import check_media_types
from pyengine.registry.transport import join_query, redact_url

D = "sha256:" + "a" * 64
E = "sha256:" + "b" * 64


def manifest_doc(**extra) -> bytes:
    doc = {
        "schemaVersion": 2,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": D, "size": 10},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": E, "size": 20}],
    }
    doc.update(extra)
    return json.dumps(doc).encode()


def test_detect_manifest_type():
    assert mt.detect_manifest_type(manifest_doc(), None) == mt.OCI_MANIFEST
    assert mt.detect_manifest_type(manifest_doc(), mt.DOCKER_MANIFEST + "; x=y") == (
        mt.DOCKER_MANIFEST
    )
    assert mt.detect_manifest_type(manifest_doc(mediaType=mt.DOCKER_MANIFEST), mt.OCI_MANIFEST) == (
        mt.DOCKER_MANIFEST
    )
    assert mt.detect_manifest_type(b'{"schemaVersion":2,"manifests":[]}', "application/json") == (
        mt.OCI_INDEX
    )
    assert mt.detect_manifest_type(b'{"schemaVersion":1,"fsLayers":[]}', None) == mt.DOCKER_SCHEMA1
    assert mt.detect_manifest_type(b"not json", None) is None


def test_layer_compression():
    assert mt.layer_compression(mt.DOCKER_LAYER_GZIP) == "gzip"
    assert mt.layer_compression(mt.OCI_LAYER_ZSTD) == "zstd"
    assert mt.layer_compression(mt.OCI_LAYER) == "none"
    with pytest.raises(KeyError):
        mt.layer_compression("application/x-foo")


def test_parse_manifest_and_errors():
    manifest = parse_manifest(manifest_doc(), mt.OCI_MANIFEST)
    assert manifest.config.digest == D and manifest.layers[0].size == 20
    with pytest.raises(Schema1Unsupported):
        parse_manifest(b'{"schemaVersion":1}', mt.DOCKER_SCHEMA1)
    with pytest.raises(InvalidManifest):
        parse_manifest(b"[]", mt.OCI_MANIFEST)
    with pytest.raises(InvalidManifest):
        parse_manifest(manifest_doc(layers=[{"digest": "sha256:zz", "size": 1}]), mt.OCI_MANIFEST)
    with pytest.raises(InvalidManifest):
        parse_manifest(manifest_doc(layers=[{"digest": E, "size": -1}]), mt.OCI_MANIFEST)


def test_media_type_gate():
    good = parse_manifest(manifest_doc(), mt.OCI_MANIFEST)
    check_media_types(good.config, good.layers, "x")
    bad_layer = Descriptor("application/x-foo", E, 1)
    with pytest.raises(mt_error("UnsupportedMediaType")) as info:
        check_media_types(good.config, [bad_layer], "img")
    assert "application/x-foo" in str(info.value) and E in str(info.value)
    with pytest.raises(mt_error("UnsupportedMediaType")):
        check_media_types(Descriptor("application/vnd.cncf.helm.config.v1+json", D, 1), [], "x")


def mt_error(name):
    from pyengine.registry import errors

    return getattr(errors, name)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/x86_64", Platform("linux", "amd64")),
        ("linux/aarch64", Platform("linux", "arm64")),
        ("linux/arm64/v8", Platform("linux", "arm64")),
        ("linux/arm", Platform("linux", "arm", "v7")),
        ("linux/arm/v6", Platform("linux", "arm", "v6")),
        ("arm64", Platform("linux", "arm64")),
    ],
)
def test_platform_parse(spec, expected):
    assert Platform.parse(spec) == expected


def test_platform_parse_rejects():
    for bad in ("", "linux/", "a/b/c/d"):
        with pytest.raises(ValueError):
            Platform.parse(bad)


def index_entries() -> list[Descriptor]:
    doc = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": D, "size": 1,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": mt.OCI_MANIFEST, "digest": E, "size": 1,
             "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
            {"mediaType": mt.OCI_MANIFEST, "digest": "sha256:" + "c" * 64, "size": 1,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": "application/vnd.in-toto+json", "digest": "sha256:" + "d" * 64,
             "size": 1, "platform": {"os": "unknown", "architecture": "unknown"}},
        ],
    }
    return parse_index(json.dumps(doc).encode())


def test_select_platform():
    entries = index_entries()
    assert select_platform(entries, Platform.parse("linux/amd64"), "x").digest == D
    assert select_platform(entries, Platform.parse("linux/arm64"), "x").digest.endswith("c" * 64)
    assert select_platform(entries, Platform.parse("linux/arm/v7"), "x").digest == E
    with pytest.raises(PlatformNotFound) as info:
        select_platform(entries, Platform.parse("linux/s390x"), "img")
    assert "linux/s390x" in str(info.value) and "linux/amd64" in str(info.value)


def test_parse_challenges():
    [bearer] = parse_challenges(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull,push",error="insufficient_scope"'
    )
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push",
        "error": "insufficient_scope",
    }
    basic, bearer2 = parse_challenges('Basic realm="x \\"q\\"", Bearer realm=https://r/t')
    assert basic.scheme == "basic" and basic.params["realm"] == 'x "q"'
    assert bearer2.params["realm"] == "https://r/t"


def test_secrets_are_not_printed():
    secret = "hunter2-very-secret"
    creds = Credentials("alice", secret)
    assert secret not in repr(creds) and secret not in str(creds)
    token = Token("tok-" + secret, 0)
    assert secret not in repr(token) and secret not in str(token)
    config = RegistryConfig(credentials=lambda host: ("alice", secret))
    assert secret not in repr(config)
    assert basic_header(creds).startswith("Basic ")


def test_plain_http_policy():
    config = RegistryConfig(insecure_registries=["myreg:5000", "10.0.0.0/8", "plainhost"])
    assert config.allows_plain_http("127.0.0.1:5000")
    assert config.allows_plain_http("localhost:80")
    assert config.allows_plain_http("[::1]:5000")
    assert config.allows_plain_http("myreg:5000")
    assert not config.allows_plain_http("myreg:5001")
    assert config.allows_plain_http("10.1.2.3:5000")
    assert config.allows_plain_http("plainhost:1234")
    assert not config.allows_plain_http("registry.example.com")
    assert not config.allows_plain_http("192.168.1.1:5000")


def test_plain_http_refused_for_remote_hosts():
    client = RegistryClient(RegistryConfig(certs_dir=None))
    client._schemes["registry.example.com"] = "http"
    with pytest.raises(InsecureRegistry):
        client.base_url("registry.example.com")


def test_helpers():
    assert split_host("[::1]:5000") == ("::1", 5000)
    assert split_host("h:5") == ("h", 5) and split_host("h") == ("h", None)
    assert registry_host("docker.io") == "registry-1.docker.io"
    assert registry_host("https://index.docker.io/v1/") == "registry-1.docker.io"
    assert registry_host("localhost:5000") == "localhost:5000"
    assert redact_url("https://u:p@h/x?sig=SECRET") == "https://h/x"
    assert join_query("http://h/u?_state=abc", [("digest", D)]) == (
        f"http://h/u?_state=abc&digest={D.replace(':', '%3A')}"
    )
    codes, message = _error_codes(b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"nope"}]}')
    assert codes == ("MANIFEST_UNKNOWN",) and message == "nope"


def test_proxy_settings_from_environment():
    from pyengine.registry.proxy import ProxySettings

    settings = ProxySettings.from_environment({
        "HTTPS_PROXY": "http://u:p%40ss@proxy.corp:3128",
        "http_proxy": "proxy.corp:8080",
        "NO_PROXY": ".internal,registry.local:5000,10.0.0.0/8",
    })
    assert settings.proxy_for("https", "registry.example.com").netloc == "proxy.corp:3128"
    assert settings.proxy_for("https", "registry.example.com").authorization == basic_header(
        Credentials("u", "p@ss")
    )
    assert "p@ss" not in repr(settings) and "cEBzcw" not in repr(settings)
    assert settings.proxy_for("http", "plain.example.com").netloc == "proxy.corp:8080"
    assert settings.proxy_for("https", "127.0.0.1:5000") is None  # loopback: never proxied
    assert settings.proxy_for("https", "localhost:5000") is None
    assert settings.proxy_for("https", "a.internal") is None
    assert settings.proxy_for("https", "registry.local:5000") is None
    assert settings.proxy_for("https", "registry.local:5001") is not None
    assert settings.proxy_for("https", "10.1.2.3:443") is None
    assert ProxySettings.from_environment({}).proxy_for("https", "x.example") is None


def test_proxy_settings_explicit_and_errors():
    from pyengine.errors import InvalidArgument
    from pyengine.registry.proxy import ProxySettings

    explicit = ProxySettings.from_mapping({"https": "http://p:1"}, bypass_loopback=False)
    assert explicit.proxy_for("https", "127.0.0.1:5000").netloc == "p:1"
    assert ProxySettings.from_mapping({"https": "http://p:1", "no_proxy": "*"},
                                      bypass_loopback=False).proxy_for("https", "x") is None
    with pytest.raises(InvalidArgument):
        ProxySettings.from_mapping({"https": "socks5://p:1"}, bypass_loopback=False)


def test_descriptor_field_types_are_checked():
    bad_urls = manifest_doc(layers=[{"mediaType": mt.OCI_LAYER_GZIP, "digest": E, "size": 1,
                                     "urls": "http://x"}])
    with pytest.raises(InvalidManifest):
        parse_manifest(bad_urls, mt.OCI_MANIFEST)
    bad_annotations = manifest_doc(layers=[{"mediaType": mt.OCI_LAYER_GZIP, "digest": E,
                                            "size": 1, "annotations": ["x"]}])
    with pytest.raises(InvalidManifest):
        parse_manifest(bad_annotations, mt.OCI_MANIFEST)


def test_tls_contexts_are_shared_until_certs_change(tmp_path):
    from pyengine.registry.transport import Transport

    host_dir = tmp_path / "certs.d" / "reg.example:5000"
    host_dir.mkdir(parents=True)
    first = Transport(RegistryConfig(certs_dir=tmp_path / "certs.d"))
    second = Transport(RegistryConfig(certs_dir=tmp_path / "certs.d"))
    context = first.tls_context("reg.example:5000")
    assert second.tls_context("reg.example:5000") is context
    (host_dir / "extra.txt").write_text("not a certificate, but the directory changed\n")
    assert second.tls_context("reg.example:5000") is not context
