"""The native snapshotter: every snapshot is a full copy of its parent (no overlayfs needed).

Copies are made with `cp -a` (hardlinks, xattrs, devices, sparse files and times preserved).
Mounts are bind mounts (read-only for views). Layers are applied with whiteouts="remove".
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pyengine.snapshots.base import BaseSnapshotter
from pyengine.snapshots.errors import SnapshotError
from pyengine.snapshots.metadata import Row
from pyengine.snapshots.mount import Mount
from pyengine.snapshots.types import Kind


class NativeSnapshotter(BaseSnapshotter):
    """Snapshots as plain directory copies under `root`."""

    def _populate(self, new_dir: Path, parents: list[Row], kind: Kind) -> None:
        fs = new_dir / "fs"
        if not parents:
            fs.mkdir(mode=0o755)
            return
        source = self.fs_dir(parents[0].id)
        result = subprocess.run(["cp", "-a", "--reflink=auto", "--sparse=always",
                                 f"{source}/.", str(fs)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SnapshotError(f"copy {source} to {fs}: {result.stderr.strip()}")

    def _mounts(self, row: Row, parents: list[Row]) -> list[Mount]:
        mode = "ro" if row.kind == "view" else "rw"
        return [Mount("bind", str(self.fs_dir(row.id)), [mode, "rbind"])]
