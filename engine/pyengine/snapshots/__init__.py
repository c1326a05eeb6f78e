"""Snapshotters in containerd's vocabulary: prepare, view, commit, remove, mounts, usage.

`OverlaySnapshotter` shares each committed layer between its children through overlayfs;
`NativeSnapshotter` copies. Both return `Mount`s and never mount anything themselves; use
`mount_all`/`unmount_all` to do that.
"""

from pyengine.snapshots.errors import (
    InvalidSnapshotKey,
    MountError,
    SnapshotError,
    SnapshotExists,
    SnapshotNotFound,
    SnapshotStateError,
)
from pyengine.snapshots.mount import Mount, mount_all, unmount_all
from pyengine.snapshots.native import NativeSnapshotter
from pyengine.snapshots.overlay import OverlaySnapshotter
from pyengine.snapshots.types import Info, Kind, Snapshotter, Usage

__all__ = [
    "Info",
    "InvalidSnapshotKey",
    "Kind",
    "Mount",
    "MountError",
    "NativeSnapshotter",
    "OverlaySnapshotter",
    "SnapshotError",
    "SnapshotExists",
    "SnapshotNotFound",
    "SnapshotStateError",
    "Snapshotter",
    "Usage",
    "mount_all",
    "unmount_all",
]
