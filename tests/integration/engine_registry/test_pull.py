"""Pulls from a real docker-registry of images built and pushed by umoci/skopeo."""

from __future__ import annotations

import json

import pytest
from pyengine.content import ContentStore
from pyengine.errors import NotFound
from pyengine.registry import (
    ManifestUnknown,
    PlatformNotFound,
    RegistryClient,
    RegistryConfig,
)
from pyengine.registry import media_types as mt

from tests.fixtures import images

pytestmark = pytest.mark.root


@pytest.fixture
def client():
    with RegistryClient(RegistryConfig(certs_dir=None, backoff_initial=0.01)) as client:
        yield client


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path / "content")


def assert_matches_skopeo(store: ContentStore, reference: str, tmp_path, result) -> None:
    """skopeo pulls the same reference: same manifest, config and layer bytes."""
    directory = tmp_path / "skopeo-dir"
    manifest = images.skopeo_pull(reference, directory)
    assert (directory / "manifest.json").read_bytes() == store.read_bytes(result.manifest_digest)
    assert manifest["config"]["digest"] == result.config_digest
    assert [layer["digest"] for layer in manifest["layers"]] == [d.digest for d in result.layers]
    for digest in [result.config_digest, *(d.digest for d in result.layers)]:
        assert store.read_bytes(digest) == (directory / digest[7:]).read_bytes()


def test_pull_umoci_manifest_without_media_type(client, store, registry, pushed_busybox,
                                                 busybox_layout, tmp_path):
    reference = pushed_busybox(registry, "bb/plain", "amd64")
    raw = busybox_layout.read_blob(busybox_layout.descriptor("amd64")["digest"])
    assert "mediaType" not in json.loads(raw)  # what umoci writes: Content-Type decides
    events = []
    result = client.pull(reference, store, progress=events.append)
    assert result.manifest_media_type == mt.OCI_MANIFEST
    assert result.index_digest is None
    assert result.manifest_digest == busybox_layout.descriptor("amd64")["digest"]
    assert store.read_bytes(result.manifest_digest) == raw
    assert store.ingests() == []
    layer = result.layers[0].digest[7:19]
    actions = [e.action for e in events if e.id == layer]
    assert actions[0] == "Waiting" and actions[-1] == "Download complete"
    assert "Verifying Checksum" in actions and "Downloading" in actions
    assert_matches_skopeo(store, reference, tmp_path, result)
    # Second pull: everything already there.
    events.clear()
    client.pull(reference, store, progress=events.append)
    assert [e.action for e in events if e.id == layer] == ["Waiting", "Already exists"]


def test_pull_oci_index_selects_platform(client, store, registry, pushed_busybox, busybox_layout):
    reference = pushed_busybox(registry, "bb/multi", "multi", all_platforms=True)
    default = client.pull(reference, store)
    assert default.index_digest == busybox_layout.descriptor("multi")["digest"]
    assert default.manifest_digest == busybox_layout.descriptor("amd64")["digest"]
    assert str(default.platform) == "linux/amd64"
    arm = client.pull(reference, store, platform="linux/arm64")
    assert arm.manifest_digest == busybox_layout.descriptor("arm64")["digest"]
    assert arm.index_digest == default.index_digest
    config = json.loads(store.read_bytes(arm.config_digest))
    assert config["architecture"] == "arm64"
    for digest in (default.index_digest, default.manifest_digest, arm.manifest_digest):
        assert store.exists(digest)
    with pytest.raises(PlatformNotFound) as info:
        client.pull(reference, store, platform="linux/s390x")
    assert isinstance(info.value, NotFound) and "linux/s390x" in str(info.value)


def test_pull_docker_manifest_list(client, store, registry, pushed_busybox, tmp_path):
    reference = pushed_busybox(registry, "bb/dlist", "multi", all_platforms=True,
                               docker_format=True)
    resolved = client.resolve(reference, "linux/arm64")
    assert resolved.index.media_type == mt.DOCKER_MANIFEST_LIST
    assert resolved.media_type == mt.DOCKER_MANIFEST
    result = client.pull(reference, store, platform="linux/arm64")
    assert result.config_media_type == mt.DOCKER_CONFIG
    assert all(layer.media_type == mt.DOCKER_LAYER_GZIP for layer in result.layers)
    assert json.loads(store.read_bytes(result.config_digest))["architecture"] == "arm64"


def test_pull_docker_schema2_and_by_digest(client, store, registry, pushed_busybox, tmp_path):
    reference = pushed_busybox(registry, "bb/docker", "amd64", docker_format=True)
    result = client.pull(reference, store)
    assert result.manifest_media_type == mt.DOCKER_MANIFEST
    by_digest = f"{registry.host}/bb/docker@{result.manifest_digest}"
    again = client.pull(by_digest, ContentStore(tmp_path / "other"))
    assert again.manifest_digest == result.manifest_digest
    assert_matches_skopeo(store, reference, tmp_path, result)


def test_pull_zstd_layer(client, store, registry, pushed_busybox, busybox_layout, tmp_path):
    reference = pushed_busybox(registry, "bb/zstd", "zstd")
    result = client.pull(reference, store)
    [layer] = result.layers
    assert layer.media_type == mt.OCI_LAYER_ZSTD
    assert store.read_bytes(layer.digest)[:4] == b"\x28\xb5\x2f\xfd"  # zstd magic
    assert_matches_skopeo(store, reference, tmp_path, result)


def test_pull_two_layers_concurrently(client, store, registry, pushed_busybox, busybox_layout):
    reference = pushed_busybox(registry, "bb/wh", "whiteout")
    result = client.pull(reference, store, max_workers=4)
    assert len(result.layers) == 2
    assert [d.digest for d in result.layers] == [
        layer["digest"] for layer in busybox_layout.manifest("whiteout")["layers"]
    ]


def test_missing_tag_and_repository(client, store, registry, pushed_busybox):
    pushed_busybox(registry, "bb/present", "amd64")
    with pytest.raises(ManifestUnknown) as info:
        client.pull(f"{registry.host}/bb/present:nope", store)
    assert isinstance(info.value, NotFound)
    assert "bb/present:nope" in str(info.value) and "not found" in str(info.value)
    with pytest.raises(NotFound):
        client.pull(f"{registry.host}/no/such:latest", store)
    assert list(store.walk()) == [] and store.ingests() == []


def test_tags_and_catalog(client, registry, pushed_busybox):
    for tag in ("amd64", "arm64", "zstd"):
        pushed_busybox(registry, "bb/tags", tag)
    pushed_busybox(registry, "bb/other", "amd64")
    assert sorted(client.tags(f"{registry.host}/bb/tags")) == ["amd64", "arm64", "zstd"]
    assert sorted(client.tags(f"{registry.host}/bb/tags", page_size=1)) == [
        "amd64", "arm64", "zstd"
    ]
    first = client.catalog(registry.host, n=1)
    assert first.repositories == ["bb/other"] and first.next_last == "bb/other"
    second = client.catalog(registry.host, n=1, last=first.next_last)
    assert second.repositories == ["bb/tags"]
    assert client.catalog(registry.host).repositories == ["bb/other", "bb/tags"]
    with pytest.raises(NotFound):
        client.tags(f"{registry.host}/no/such")


def test_mirror_is_used_before_origin(store, registry, pushed_busybox):
    """Origin is a dead port; the configured mirror serves the pull."""
    from tests.fixtures.registry import closed_port

    reference = pushed_busybox(registry, "bb/mirrored", "amd64")
    with closed_port() as port:
        origin = f"127.0.0.1:{port}"
        config = RegistryConfig(certs_dir=None, mirrors={origin: [registry.url]},
                                backoff_initial=0.01)
        with RegistryClient(config) as client:
            result = client.pull(f"{origin}/bb/mirrored:amd64", store)
    assert result.endpoint == registry.host
    assert store.exists(result.manifest_digest)
    del reference


def test_mirror_without_the_image_falls_back_to_origin(store, registry, pushed_busybox,
                                                       tmp_path):
    from tests.fixtures.registry import RegistryServer

    pushed_busybox(registry, "bb/origin", "amd64")
    mirror = RegistryServer(root=tmp_path / "mirror")
    mirror.root.mkdir()
    mirror.start()
    try:
        config = RegistryConfig(certs_dir=None, mirrors={registry.host: [mirror.url]})
        with RegistryClient(config) as client:
            result = client.pull(f"{registry.host}/bb/origin:amd64", store)
    finally:
        mirror.stop()
    assert result.endpoint == registry.host


def test_foreign_layer_fetched_from_its_urls(fault_proxy, registry, pushed_busybox,
                                             busybox_layout, store):
    """A non-distributable layer absent from the repository comes from the descriptor's URL."""
    pushed_busybox(registry, "bb/src", "amd64")
    manifest = busybox_layout.manifest("amd64")
    config_blob = busybox_layout.read_blob(manifest["config"]["digest"])
    images.raw_push_blob(registry.url, "bb/foreign", config_blob)
    layer = manifest["layers"][0]
    layer["mediaType"] = mt.OCI_LAYER_NONDIST_GZIP
    layer["urls"] = [f"{registry.url}/v2/bb/src/blobs/{layer['digest']}"]
    manifest["mediaType"] = mt.OCI_MANIFEST
    fault_proxy.add("canned", r"/v2/bb/foreign/manifests/v1", status=200,
                    body=json.dumps(manifest).encode(),
                    headers={"Content-Type": mt.OCI_MANIFEST})
    with RegistryClient(RegistryConfig(certs_dir=None)) as client:
        result = client.pull(f"{fault_proxy.host}/bb/foreign:v1", store)
    assert store.exists(layer["digest"]) and result.layers[0].urls == tuple(layer["urls"])


def test_pull_uncompressed_layer(registry, store, busybox_layout, tmp_path):
    """A plain tar layer (GNU tar, pushed over raw HTTP): media type ...tar, no compression."""
    rootfs = images.busybox_rootfs(tmp_path / "rootfs", "plain tar")
    tar_path = tmp_path / "layer.tar"
    images.run("tar", "--numeric-owner", "-C", rootfs, "-cf", tar_path, ".")
    layer = tar_path.read_bytes()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers",
                                    "diff_ids": [images.sha256_file(tar_path)]}}).encode()
    layer_digest = images.raw_push_blob(registry.url, "bb/plain-tar", layer)
    config_digest = images.raw_push_blob(registry.url, "bb/plain-tar", config)
    manifest = {
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": mt.OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
    }
    images.raw_push_manifest(registry.url, "bb/plain-tar", "v1", json.dumps(manifest).encode(),
                             mt.OCI_MANIFEST)
    with RegistryClient(RegistryConfig(certs_dir=None)) as client:
        result = client.pull(f"{registry.host}/bb/plain-tar:v1", store)
    assert mt.layer_compression(result.layers[0].media_type) == "none"
    assert store.read_bytes(layer_digest) == layer


def test_single_manifest_of_another_platform_is_refused(client, store, registry,
                                                        pushed_busybox):
    reference = pushed_busybox(registry, "bb/arm-only", "arm64")
    with pytest.raises(PlatformNotFound) as info:
        client.pull(reference, store, platform="linux/amd64")
    assert "linux/arm64" in str(info.value) and "linux/amd64" in str(info.value)
    assert len(list(store.walk())) == 1  # only the config was fetched
    result = client.pull(reference, store, platform="linux/arm64")
    assert store.exists(result.manifest_digest)


def test_pull_image_without_layers(registry, store):
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = images.raw_push_blob(registry.url, "bb/empty", config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": mt.DOCKER_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [],
    }).encode()
    images.raw_push_manifest(registry.url, "bb/empty", "v1", manifest, mt.DOCKER_MANIFEST)
    with RegistryClient(RegistryConfig(certs_dir=None)) as client:
        result = client.pull(f"{registry.host}/bb/empty:v1", store)
    assert result.layers == [] and store.read_bytes(result.config_digest) == config
