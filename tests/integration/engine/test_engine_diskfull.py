"""A full disk under --data-root: pull and import fail with a clear error, the store stays
consistent, and they succeed once space is available again."""

from __future__ import annotations

import subprocess

import pytest
from engine_harness import Engine, new_base

pytestmark = pytest.mark.root

SMALL = 3 * 1024 * 1024  # holds the ~2.1 MB busybox blob but not also its unpacked copy


@pytest.fixture
def small_disk_engine():
    daemon = Engine(new_base())
    daemon.data_root.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs",
                    str(daemon.data_root)], check=True)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        subprocess.run(["umount", str(daemon.data_root)], check=False)
        subprocess.run(["rm", "-rf", str(daemon.base)], check=False)


def test_pull_and_import_on_a_full_disk(small_disk_engine, engine, registry, busybox_tar):
    remote = f"{registry.host}/full/bb:1"
    engine.out("import", str(busybox_tar), remote)
    engine.out("push", remote)
    engine.out("rmi", remote)

    daemon = small_disk_engine
    pulled = daemon.pyctl("pull", remote)
    assert pulled.returncode == 1
    message = pulled.stderr.decode()
    assert message.startswith("Error response from daemon: ")
    assert "space" in message.lower(), message
    assert daemon.out("images", "-q") == ""
    assert daemon.ingests() == []
    imported = daemon.pyctl("import", str(busybox_tar), "local:1")
    assert imported.returncode == 1 and "space" in imported.stderr.decode().lower()

    subprocess.run(["mount", "-o", "remount,size=64m", str(daemon.data_root)], check=True)
    assert daemon.pyctl("pull", remote).returncode == 0
    assert daemon.out("inspect", "-f", "{{index .RepoTags 0}}", remote).strip() == remote
