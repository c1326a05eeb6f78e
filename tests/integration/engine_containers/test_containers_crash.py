"""What a daemon killed in the middle of create or rm leaves is cleaned at the next start: a
removal half done is finished; a writable snapshot, bundle (with its rootfs mounted) and log
directory of a container never recorded go. Recorded containers stay."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]


def test_leftovers_of_create_and_rm_are_cleaned_at_start(
        make_engine: Callable[[], ContainerEngine]) -> None:
    from pyengine.containers.model import REMOVING
    from pyengine.containers.names import new_id
    from pyengine.containers.repository import ContainerRepository
    from pyengine.snapshots import OverlaySnapshotter
    from pyengine.snapshots.mount import mount_all
    from pyengine.store import Database

    engine = make_engine()
    kept = engine.out("create", "--name", "kept", "busybox").strip()
    half_removed = engine.out("create", "--name", "half-removed", "busybox").strip()
    engine.kill9()
    # rm cut short after the state was saved; create cut short before the record
    db = Database(engine.data_root / "metadata.db")
    try:
        repo = ContainerRepository(db)
        record = repo.get(half_removed)
        record.state.status = REMOVING
        repo.save_state(half_removed, record.state)
    finally:
        db.close()
    orphan = new_id()
    snapshots = OverlaySnapshotter(engine.data_root / "snapshots" / "overlay")
    try:
        chain = next(i.name for i in snapshots.walk() if i.kind == "committed")
        snapshots.prepare(orphan, chain)
        rootfs = engine.exec_root / "containers" / orphan / "rootfs"
        rootfs.mkdir(parents=True)
        mount_all(snapshots.mounts(orphan), rootfs)
    finally:
        snapshots.close()
    (engine.data_root / "containers" / orphan).mkdir()
    engine.start()
    names = engine.out("ps", "-a", "--format", "{{.Names}}").split()
    assert names == ["kept"]
    for gone in (orphan, half_removed):
        assert not (engine.exec_root / "containers" / gone).exists()
        assert not (engine.data_root / "containers" / gone).exists()
    with open("/proc/self/mountinfo") as mounts:
        assert orphan not in mounts.read()
    snapshots_left = os.listdir(engine.data_root / "snapshots" / "overlay")
    assert snapshots_left  # the image's layers stay
    engine.stop()
    snapshots = OverlaySnapshotter(engine.data_root / "snapshots" / "overlay")
    try:
        active = sorted(i.name for i in snapshots.walk() if i.kind == "active")
    finally:
        snapshots.close()
    assert active == [kept]
    engine.start()
