"""kill -9 during a pull and a full disk: the store stays consistent and the pull can be redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from pyengine.content import ContentStore, StoreFull
from pyengine.errors import ResourceExhausted
from pyengine.registry import RegistryClient, RegistryConfig

pytestmark = pytest.mark.root

ENGINE = str(Path(__file__).resolve().parents[3] / "engine")


def make_client() -> RegistryClient:
    return RegistryClient(RegistryConfig(certs_dir=None, backoff_initial=0.01))


def test_kill_9_during_pull_then_pull_again(fault_proxy, registry, pushed_busybox,
                                            busybox_layout, tmp_path):
    pushed_busybox(registry, "bb/crash", "amd64")
    layer = busybox_layout.manifest("amd64")["layers"][0]["digest"]
    fault_proxy.add("stall", r"/blobs/" + layer, after=300_000)
    root = tmp_path / "content"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {ENGINE!r})
        from pyengine.content import ContentStore
        from pyengine.registry import RegistryClient, RegistryConfig
        client = RegistryClient(RegistryConfig(certs_dir=None))
        client.pull({f"{fault_proxy.host}/bb/crash:amd64"!r}, ContentStore({str(root)!r}))
        """
    )
    stderr_path = tmp_path / "child.stderr"
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen([sys.executable, "-c", script], stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ingests = ContentStore(root).ingests() if root.exists() else []
            if any(i.expected == layer and i.offset >= 200_000 for i in ingests):
                break
            assert child.poll() is None, (
                f"the pull ended before it could be killed: {stderr_path.read_text()[-3000:]}"
            )
            time.sleep(0.02)
        else:
            pytest.fail(f"the pull never reached the stalled layer: {ingests}")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    fault_proxy.release.set()
    store = ContentStore(root)
    assert not store.exists(layer)
    for blob in store.walk():
        store.verify(blob.digest)
    [partial] = [i for i in store.ingests() if i.expected == layer]
    fault_proxy.log.clear()
    with make_client() as client:
        result = client.pull(f"{fault_proxy.host}/bb/crash:amd64", store)
    assert store.exists(layer) and store.exists(result.manifest_digest)
    assert store.ingests() == []
    requests = [(m, p, r) for (m, p, r) in fault_proxy.log if layer in p]
    assert [r for (m, _, r) in requests if m == "GET"] == [f"bytes={partial.offset}-"], requests


@pytest.fixture
def tiny_tmpfs():
    # Not under tmp_path: pytest sessions running in parallel rotate /tmp/pytest-of-<user>
    # and could rename a directory that still holds our mount.
    mountpoint = Path(tempfile.mkdtemp(prefix="pyengine-tiny-tmpfs-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mountpoint)],
                   check=True)
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        mountpoint.rmdir()


def test_full_disk_is_a_clear_error(registry, pushed_busybox, busybox_layout, tiny_tmpfs):
    reference = pushed_busybox(registry, "bb/full", "amd64")
    layer = busybox_layout.manifest("amd64")["layers"][0]["digest"]
    store = ContentStore(tiny_tmpfs / "content")
    with make_client() as client, pytest.raises(StoreFull) as info:
        client.pull(reference, store)
    assert isinstance(info.value, ResourceExhausted)
    assert "No space left on device" in str(info.value) and str(tiny_tmpfs) in str(info.value)
    assert not store.exists(layer)
    for blob in store.walk():
        store.verify(blob.digest)
    # No writer kept its lock: every partial ingest can be pruned.
    leftovers = {i.ref for i in store.ingests()}
    assert set(store.prune_ingests(older_than=time.time() + 60)) == leftovers
    assert store.ingests() == []
