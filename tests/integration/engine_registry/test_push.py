"""Push to a real registry: checked afterwards with skopeo, not with our own client."""

from __future__ import annotations

import json

import pytest
from pyengine.content import ContentStore
from pyengine.errors import FailedPrecondition
from pyengine.registry import RegistryClient, RegistryConfig

from tests.fixtures import images

pytestmark = pytest.mark.root


def make_client(**overrides) -> RegistryClient:
    settings = {"certs_dir": None, "backoff_initial": 0.01, "backoff_max": 0.05}
    settings.update(overrides)
    return RegistryClient(RegistryConfig(**settings))


@pytest.fixture
def pulled(registry, pushed_busybox, tmp_path):
    """busybox (two layers) pulled into a fresh store."""
    store = ContentStore(tmp_path / "content")
    reference = pushed_busybox(registry, "src/bb", "whiteout")
    with make_client() as client:
        result = client.pull(reference, store)
    return store, result


def final_actions(events) -> list[str]:
    """Each layer's last progress action (after "Preparing" and maybe "Waiting")."""
    return list({e.id: e.action for e in events}.values())


def assert_skopeo_sees(reference: str, store: ContentStore, manifest_digest: str, tmp_path):
    directory = tmp_path / "check"
    manifest = images.skopeo_pull(reference, directory)
    assert (directory / "manifest.json").read_bytes() == store.read_bytes(manifest_digest)
    for blob in [manifest["config"], *manifest["layers"]]:
        assert (directory / blob["digest"][7:]).read_bytes() == store.read_bytes(blob["digest"])


def test_push_monolithic_then_existing(registry, pulled, tmp_path):
    store, result = pulled
    events = []
    with make_client() as client:
        pushed = client.push(f"{registry.host}/dst/mono:v1", store, result.manifest_digest,
                             progress=events.append)
        assert pushed.digest == result.manifest_digest
        actions = {e.id: e.action for e in events}
        assert set(actions.values()) == {"Pushed"} and len(actions) == 2
        assert events[0].action == "Preparing"
        events.clear()
        client.push(f"{registry.host}/dst/mono:v2", store, result.manifest_digest,
                    progress=events.append)
        assert set(final_actions(events)) == {"Layer already exists"}
    assert_skopeo_sees(f"{registry.host}/dst/mono:v1", store, result.manifest_digest, tmp_path)


def test_push_chunked(registry, pulled, tmp_path):
    store, result = pulled
    events = []
    with make_client(upload_monolithic_max=0, upload_chunk_size=200_000) as client:
        client.push(f"{registry.host}/dst/chunked:v1", store, result.manifest_digest,
                    progress=events.append)
    pushing = [e for e in events if e.action == "Pushing"]
    assert pushing and pushing[-1].current == pushing[-1].total
    assert_skopeo_sees(f"{registry.host}/dst/chunked:v1", store, result.manifest_digest,
                       tmp_path)


def test_push_chunked_recovers_from_5xx(registry, fault_proxy, pulled, tmp_path):
    store, result = pulled
    fault_proxy.add("status", r"/v2/dst/flaky/blobs/uploads/", method="PATCH", times=1,
                    status=503)
    with make_client(upload_monolithic_max=0, upload_chunk_size=300_000) as client:
        client.push(f"{fault_proxy.host}/dst/flaky:v1", store, result.manifest_digest)
    assert fault_proxy.faults[0].hits == 1
    assert_skopeo_sees(f"{registry.host}/dst/flaky:v1", store, result.manifest_digest, tmp_path)


def test_push_cross_repository_mount(registry, pulled):
    store, result = pulled
    events = []
    with make_client() as client:
        client.push(f"{registry.host}/dst/mounted:v1", store, result.manifest_digest,
                    progress=events.append, mount_from=["src/bb"])
    assert set(final_actions(events)) == {"Mounted from src/bb"}


def test_push_uploads_when_a_mount_source_is_not_readable(token_registry, pushed_busybox,
                                                          tmp_path):
    """The token grants no pull on the mount's source: the registry answers 401 to the mount;
    the push uploads instead (as docker's), and the source is not reported refused."""
    store = ContentStore(tmp_path / "content")
    reference = pushed_busybox(token_registry, "private/bb", "amd64")
    refused: list[tuple[str, str]] = []

    class Sources:
        def candidates(self, digest: str) -> list[str]:
            return ["private/bb"]

        def refused(self, digest: str, repository: str) -> None:
            refused.append((digest, repository))

    events = []
    with RegistryClient(RegistryConfig(certs_dir=None)) as client:
        client.check_login(token_registry.host, token_registry.username,
                           token_registry.password)
        result = client.pull(reference, store)
        token_registry.token_server.hidden_repositories.add("private/bb")
        pushed = client.push(f"{token_registry.host}/private/copy:v1", store,
                             result.manifest_digest, progress=events.append, sources=Sources())
        assert client.tags(f"{token_registry.host}/private/copy") == ["v1"]
    assert set(final_actions(events)) == {"Pushed"}
    assert refused == []
    assert set(pushed.blobs) == {result.config_digest, *(d.digest for d in result.layers)}


def test_push_index_and_pull_it_back(registry, pushed_busybox, tmp_path):
    store = ContentStore(tmp_path / "content")
    reference = pushed_busybox(registry, "src/multi", "multi", all_platforms=True)
    with make_client() as client:
        amd = client.pull(reference, store, platform="linux/amd64")
        client.pull(reference, store, platform="linux/arm64")
        client.push(f"{registry.host}/dst/multi:v1", store, amd.index_digest)
    raw = images.run("skopeo", "inspect", "--raw", "--tls-verify=false",
                     f"docker://{registry.host}/dst/multi:v1").stdout
    assert raw.encode() == store.read_bytes(amd.index_digest)
    assert len(json.loads(raw)["manifests"]) == 2


def test_push_index_with_missing_platform_is_refused(registry, pushed_busybox, tmp_path):
    store = ContentStore(tmp_path / "content")
    reference = pushed_busybox(registry, "src/multi", "multi", all_platforms=True)
    with make_client() as client:
        amd = client.pull(reference, store, platform="linux/amd64")
        with pytest.raises(FailedPrecondition) as info:
            client.push(f"{registry.host}/dst/partial:v1", store, amd.index_digest)
    assert "linux/arm64" in str(info.value)


def test_push_monolithic_restarts_after_a_lost_upload(registry, fault_proxy, pulled, tmp_path):
    """The PUT that completes an upload fails with 404 (session gone): a new upload follows."""
    store, result = pulled
    fault_proxy.add("canned", r"/v2/dst/lost/blobs/uploads/", method="PUT", times=1,
                    status=404, body=b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
    with make_client() as client:
        client.push(f"{fault_proxy.host}/dst/lost:v1", store, result.manifest_digest)
    assert fault_proxy.faults[0].hits == 1
    assert_skopeo_sees(f"{registry.host}/dst/lost:v1", store, result.manifest_digest, tmp_path)
