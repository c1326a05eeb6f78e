"""Bad input and faults: corrupted blobs, cut transfers, 5xx, odd media types, schema 1."""

from __future__ import annotations

import json
import logging

import pytest
from pyengine.content import ContentStore
from pyengine.errors import DataLoss, InvalidArgument, Unavailable
from pyengine.registry import (
    ContentMismatch,
    RegistryClient,
    RegistryConfig,
    RegistryUnavailable,
    Schema1Unsupported,
    UnsupportedMediaType,
)
from pyengine.registry import media_types as mt

from tests.fixtures import images

pytestmark = pytest.mark.root

BLOB = r"/v2/.+/blobs/sha256:"


def make_client(**overrides) -> RegistryClient:
    settings = {"certs_dir": None, "backoff_initial": 0.01, "backoff_max": 0.05}
    settings.update(overrides)
    return RegistryClient(RegistryConfig(**settings))


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path / "content")


@pytest.fixture
def image(registry, pushed_busybox, busybox_layout):
    """busybox amd64 pushed to the registry; returns (repo:tag on the proxy, layer digest)."""
    pushed_busybox(registry, "bb/f", "amd64")
    layer = busybox_layout.manifest("amd64")["layers"][0]
    return "bb/f:amd64", layer["digest"], layer["size"]


def layer_path(digest: str) -> str:
    return BLOB + digest[7:]


def assert_consistent(store: ContentStore) -> None:
    """Every blob in blobs/ hashes to its name."""
    for info in store.walk():
        store.verify(info.digest)


def test_corrupted_blob_is_refused_and_not_stored(fault_proxy, image, store):
    name, layer, _ = image
    fault_proxy.add("corrupt", layer_path(layer), times=10)
    with make_client() as client, pytest.raises(ContentMismatch) as info:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert isinstance(info.value, DataLoss)
    message = str(info.value)
    assert layer in message and "does not match" in message
    assert not store.exists(layer)
    assert all(i.expected != layer for i in store.ingests())
    assert_consistent(store)
    # Nothing of the image's manifest is recorded: a manifest implies all its blobs.
    assert all(json.loads(store.read_bytes(b.digest)).get("layers") is None
               for b in store.walk() if b.size < 4096 and store.read_bytes(b.digest)[:1] == b"{")


def test_truncated_transfer_resumes_with_range(fault_proxy, image, store):
    name, layer, size = image
    fault_proxy.add("truncate", layer_path(layer), after=300_000)
    with make_client() as client:
        result = client.pull(f"{fault_proxy.host}/{name}", store)
    assert store.exists(layer) and store.ingests() == []
    ranges = [r for (m, p, r) in fault_proxy.log if m == "GET" and layer[7:] in p]
    assert ranges == [None, "bytes=300000-"]
    assert result.layers[0].size == size
    assert_consistent(store)


def test_server_ignoring_range_restarts_blob(fault_proxy, image, store):
    name, layer, _ = image
    fault_proxy.add("truncate", layer_path(layer), after=100_000)
    fault_proxy.add("ignore_range", layer_path(layer))
    with make_client() as client:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert store.exists(layer)
    assert_consistent(store)


def test_interrupted_pull_is_resumed_by_the_next_pull(fault_proxy, image, store):
    name, layer, _ = image
    fault_proxy.add("truncate", layer_path(layer), after=250_000)
    with make_client(max_attempts=1) as client, pytest.raises(RegistryUnavailable) as info:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert isinstance(info.value, Unavailable) and layer in str(info.value)
    [ingest] = [i for i in store.ingests() if i.expected == layer]
    assert ingest.expected == layer and ingest.offset == 250_000
    fault_proxy.log.clear()
    with make_client() as client:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert [r for (m, p, r) in fault_proxy.log if m == "GET" and layer[7:] in p] == [
        "bytes=250000-"
    ]
    assert store.exists(layer) and store.ingests() == []


def test_5xx_then_recovery(fault_proxy, image, store):
    name, layer, _ = image
    fault_proxy.add("status", layer_path(layer), times=2, status=503)
    fault_proxy.add("status", r"/v2/.+/manifests/", times=1, status=502)
    with make_client() as client:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert store.exists(layer)
    statuses = [f.hits for f in fault_proxy.faults]
    assert statuses == [2, 1]


def test_persistent_5xx_gives_up_clearly(fault_proxy, image, store):
    name, layer, _ = image
    fault_proxy.add("status", layer_path(layer), times=100, status=500)
    with make_client(max_attempts=3) as client, pytest.raises(RegistryUnavailable) as info:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert "500" in str(info.value) and layer in str(info.value)
    assert not store.exists(layer)


def test_redirect_is_followed(fault_proxy, registry, image, store):
    name, layer, _ = image
    fault_proxy.add(
        "canned", layer_path(layer), status=307,
        headers={"Location": f"{registry.url}/v2/bb/f/blobs/{layer}"},
    )
    with make_client() as client:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert store.exists(layer)


def test_unknown_layer_media_type(registry, store, busybox_layout):
    manifest = busybox_layout.manifest("amd64")
    config = busybox_layout.read_blob(manifest["config"]["digest"])
    layer = busybox_layout.read_blob(manifest["layers"][0]["digest"])
    images.raw_push_blob(registry.url, "odd/type", config)
    images.raw_push_blob(registry.url, "odd/type", layer)
    manifest["mediaType"] = mt.OCI_MANIFEST
    manifest["layers"][0]["mediaType"] = "application/x-unknown-layer"
    images.raw_push_manifest(registry.url, "odd/type", "v1", json.dumps(manifest).encode(),
                             mt.OCI_MANIFEST)
    with make_client() as client, pytest.raises(UnsupportedMediaType) as info:
        client.pull(f"{registry.host}/odd/type:v1", store)
    assert isinstance(info.value, InvalidArgument)
    assert "application/x-unknown-layer" in str(info.value)
    assert list(store.walk()) == [] and store.ingests() == []


def test_unknown_manifest_media_type(fault_proxy, image, store):
    name, _, _ = image
    body = b'{"schemaVersion": 2, "something": "else"}'
    fault_proxy.add("canned", r"/v2/bb/f/manifests/", status=200, body=body,
                    headers={"Content-Type": "application/vnd.example.thing+json"})
    with make_client() as client, pytest.raises(UnsupportedMediaType) as info:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert "application/vnd.example.thing+json" in str(info.value)


def test_schema1_is_refused(fault_proxy, image, store):
    name, _, _ = image
    body = json.dumps({"schemaVersion": 1, "name": "bb/f", "tag": "amd64", "fsLayers": [],
                       "history": [], "signatures": []}).encode()
    fault_proxy.add("canned", r"/v2/bb/f/manifests/", status=200, body=body,
                    headers={"Content-Type": mt.DOCKER_SCHEMA1_SIGNED})
    with make_client() as client, pytest.raises(Schema1Unsupported) as info:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert "schema 1" in str(info.value)
    assert list(store.walk()) == []


def test_manifest_digest_mismatch_by_digest_reference(fault_proxy, image, store,
                                                      busybox_layout):
    del image  # pushes the image
    digest = busybox_layout.descriptor("amd64")["digest"]
    fault_proxy.add("corrupt", r"/v2/bb/f/manifests/sha256:")
    with make_client() as client, pytest.raises(ContentMismatch):
        client.pull(f"{fault_proxy.host}/bb/f@{digest}", store)
    assert list(store.walk()) == []


def test_unreachable_registry(store):
    from tests.fixtures.registry import closed_port

    with closed_port() as port, make_client(max_attempts=2) as client, \
            pytest.raises(RegistryUnavailable) as info:
        client.pull(f"127.0.0.1:{port}/x:y", store)
    assert "cannot connect" in str(info.value)


def test_logs_name_requests_without_query_strings(fault_proxy, image, store, caplog):
    name, layer, _ = image
    fault_proxy.add("status", layer_path(layer), times=1, status=503)
    with caplog.at_level(logging.DEBUG, logger="pyengine.registry"), make_client() as client:
        client.pull(f"{fault_proxy.host}/{name}", store)
    assert any("503" in r.getMessage() for r in caplog.records)
    assert all("?" not in r.getMessage() for r in caplog.records)
