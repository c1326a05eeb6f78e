"""ipc_shm's unmount is idempotent, and a failing one does not stop the daemon's recovery."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyengine.containers import ipc_shm
from pyengine.containers.service import ContainerService
from pyengine.snapshots.errors import MountError


def test_unmount_with_nothing_mounted_or_no_bundle(tmp_path: Path) -> None:
    (tmp_path / "with-dir" / "shm").mkdir(parents=True)
    ipc_shm.unmount(tmp_path / "with-dir")  # a directory, not a mount point: nothing to do
    ipc_shm.unmount(tmp_path / "gone")  # a bundle a reboot took away
    assert (tmp_path / "with-dir" / "shm").is_dir()


def test_a_failing_unmount_at_recovery_is_logged_not_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refuse(bundle: Path) -> None:
        raise MountError(f"unmount {bundle}/shm: Operation not permitted (errno 1)")

    monkeypatch.setattr(ipc_shm, "unmount", refuse)
    service = SimpleNamespace(bundles=tmp_path)
    with caplog.at_level(logging.WARNING, logger="pyengine"):
        ContainerService._unmount_shm(service, "c" * 64)  # type: ignore[arg-type]
    assert "Operation not permitted" in caplog.records[-1].fields["error"]  # type: ignore[attr-defined]
