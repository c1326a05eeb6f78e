"""The overlayfs snapshotter: each committed layer is a directory shared by every child.

An active snapshot is an overlay of its parents' fs directories (nearest first) under its own
upper (fs) and work directories; with no parent it is a bind mount of its fs directory. A view
of a single layer is a read-only bind mount; a view of several is a read-only overlay (lower
directories only). Long layer chains (128+) fit in the mount data because mount_all passes the
lowerdir paths relative to the snapshots directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pyengine.snapshots.base import BaseSnapshotter
from pyengine.snapshots.metadata import Row
from pyengine.snapshots.mount import Mount
from pyengine.snapshots.types import Kind


class OverlaySnapshotter(BaseSnapshotter):
    """Snapshots as overlayfs layers under `root`."""

    def _populate(self, new_dir: Path, parents: list[Row], kind: Kind) -> None:
        (new_dir / "fs").mkdir(mode=0o755)
        if kind == "active":
            (new_dir / "work").mkdir(mode=0o700)

    def _mounts(self, row: Row, parents: list[Row]) -> list[Mount]:
        lowers = [str(self.fs_dir(p.id)) for p in parents]
        own = str(self.fs_dir(row.id))
        if row.kind == "view":
            if not parents:
                return [Mount("bind", own, ["ro", "rbind"])]
            if len(parents) == 1:
                return [Mount("bind", lowers[0], ["ro", "rbind"])]
            return [Mount("overlay", "overlay", ["ro", "lowerdir=" + ":".join(lowers)])]
        if not parents:
            return [Mount("bind", own, ["rw", "rbind"])]
        work = str(self._dir(row.id) / "work")
        return [Mount("overlay", "overlay", [
            "index=off", "lowerdir=" + ":".join(lowers), f"upperdir={own}", f"workdir={work}"])]

    def _after_commit(self, snapshot_id: int) -> None:
        # The work directory is only needed while the snapshot is an upper layer.
        shutil.rmtree(self._dir(snapshot_id) / "work", ignore_errors=True)
