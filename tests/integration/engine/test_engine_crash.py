"""kill -9 of the daemon in the middle of a pull: after a restart the store is consistent
(no ingests, no unreferenced blobs or snapshots, no leases) and the pull can be redone."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from engine_harness import env
from stallproxy import StallProxy

pytestmark = pytest.mark.root

WAIT = 60.0  # upper bound for the daemon to reach the stall point (not a timed assertion)


def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def leases(daemon) -> list:  # type: ignore[no-untyped-def]
    with sqlite3.connect(daemon.data_root / "metadata.db") as db:
        return db.execute("SELECT id, purpose FROM leases").fetchall()


def snapshots(daemon) -> list:  # type: ignore[no-untyped-def]
    root = daemon.data_root / "snapshots" / "overlay" / "snapshots"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_kill9_mid_pull_then_restart_and_pull_again(engine_factory, registry, busybox_tar):
    daemon = engine_factory()
    layer_digest = "sha256:" + hashlib.sha256(busybox_tar.read_bytes()).hexdigest()
    daemon.out("import", str(busybox_tar), "crash:1")
    config_digest = daemon.out("inspect", "-f", "{{.Id}}", "crash:1").strip()
    remote = f"{registry.host}/crash/bb:1"
    daemon.out("tag", "crash:1", remote)
    manifest_digest = daemon.out("push", remote).splitlines()[-1].split()[2]
    daemon.out("image", "prune", "-a", "-f")
    assert daemon.blobs() == set() and snapshots(daemon) == []

    proxy = StallProxy(registry.host).start()
    try:
        proxy.stall(f"/blobs/{layer_digest}$")
        name = f"{proxy.host}/crash/bb:1"
        run_env = env()
        run_env["PYENGINE_HOST"] = daemon.host
        pull = subprocess.Popen([sys.executable, "-m", "pyengine.cli", "pull", name],
                                env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(proxy.stalled.is_set, "the layer download to stall")
            wait_for(lambda: config_digest in daemon.blobs(), "the config blob")
            wait_for(lambda: any((p / "data").exists() and (p / "data").stat().st_size > 0
                                 for p in daemon.ingests()), "a partial layer ingest")
            assert leases(daemon), "a pull in flight holds a lease"
            daemon.kill9()
        finally:
            pull.communicate(timeout=60)
        assert pull.returncode != 0
        assert manifest_digest in daemon.blobs() or config_digest in daemon.blobs()
        assert daemon.ingests()

        proxy.stall(None)
        (daemon.data_root / "tmp" / "upload-leftover").write_bytes(b"partial upload")
        daemon.start()
        assert list((daemon.data_root / "tmp").iterdir()) == []
        assert daemon.ingests() == []
        assert daemon.blobs() == set()
        assert leases(daemon) == []
        assert snapshots(daemon) == []
        assert "recovering from an interrupted operation" in daemon.log()

        out = daemon.out("pull", name).splitlines()
        assert out[-1] == name
        assert daemon.blobs() == {manifest_digest, config_digest, layer_digest}
        assert daemon.ingests() == [] and leases(daemon) == []
        assert len(snapshots(daemon)) == 1
        assert daemon.out("inspect", "-f", "{{.Id}}", name).strip() == config_digest
    finally:
        proxy.stop()


@contextlib.contextmanager
def stalled_pull(daemon, registry, busybox_tar, repo: str) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """A `pyctl pull` of a pushed busybox whose layer download stalls at a proxy: yields
    (proxy, the pyctl process) once the daemon waits on the layer; stops the proxy after."""
    layer_digest = "sha256:" + hashlib.sha256(busybox_tar.read_bytes()).hexdigest()
    daemon.out("import", str(busybox_tar), f"{registry.host}/{repo}:1")
    daemon.out("push", f"{registry.host}/{repo}:1")
    daemon.out("image", "prune", "-a", "-f")
    proxy = StallProxy(registry.host).start()
    try:
        proxy.stall(f"/blobs/{layer_digest}$")
        run_env = env()
        run_env["PYENGINE_HOST"] = daemon.host
        pull = subprocess.Popen(
            [sys.executable, "-m", "pyengine.cli", "pull", f"{proxy.host}/{repo}:1"],
            env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(proxy.stalled.is_set, "the layer download to stall")
            yield proxy, pull
        finally:
            if pull.returncode is None:
                pull.kill()
                pull.communicate(timeout=60)
    finally:
        proxy.stop()


def test_sigterm_during_pull_cancels_it_and_exits_cleanly(engine_factory, registry, busybox_tar):
    daemon = engine_factory()
    with stalled_pull(daemon, registry, busybox_tar, "term/bb") as (proxy, pull):
        try:
            assert daemon.stop() == 0
        finally:
            _, err = pull.communicate(timeout=60)
        assert pull.returncode == 1
        assert err.decode().startswith("Error response from daemon: ")
        assert not daemon.socket.exists()
        assert "daemon shutdown complete" in daemon.log()
        proxy.release.set()
        daemon.start()
        assert daemon.blobs() == set() and daemon.ingests() == [] and leases(daemon) == []


def test_kill9_during_extraction(engine_factory, registry, tmp_path):
    """Killed while a layer is being extracted: the active snapshot and the blobs go away."""
    import io
    import os
    import tarfile

    from pyengine.api import images_pb2, images_pb2_grpc

    big = tmp_path / "big.tar"
    with tarfile.open(big, "w") as tar:
        data = os.urandom(48 << 20)
        info = tarfile.TarInfo("blob.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    daemon = engine_factory()
    remote = f"{registry.host}/crash/big:1"
    daemon.out("import", str(big), remote)
    daemon.out("push", remote)
    daemon.out("image", "prune", "-a", "-f")

    with daemon.channel() as channel:
        stream = images_pb2_grpc.ImagesServiceStub(channel).Pull(
            images_pb2.PullRequest(reference=remote))
        for message in stream:
            if message.status == "Extracting":
                daemon.kill9()
                break
    assert [p for p in snapshots(daemon)], "an extraction was in progress"
    daemon.start()
    assert snapshots(daemon) == []
    assert daemon.blobs() == set() and leases(daemon) == []
    assert daemon.pyctl("pull", remote).returncode == 0
    assert len(snapshots(daemon)) == 1
