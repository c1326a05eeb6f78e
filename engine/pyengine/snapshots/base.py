"""Shared snapshotter machinery: metadata, directories, crash safety.

Layout under `root`: metadata.db, lock, snapshots/<id>/fs (the snapshot's files; for overlay
the upper directory) and snapshots/<id>/work. A new snapshot is built in snapshots/new-*, renamed
to its id inside the transaction that records it; removal deletes the row first, then the
directory. Whatever a kill -9 leaves behind (new-*, rm-*, ids without a row) is removed when the
snapshotter is opened again.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from pyengine.archive.safefs import remove_tree
from pyengine.snapshots.errors import (
    InvalidSnapshotKey,
    SnapshotError,
    SnapshotStateError,
)
from pyengine.snapshots.metadata import MetadataStore, Row
from pyengine.snapshots.mount import Mount
from pyengine.snapshots.types import Info, Kind, Usage


class BaseSnapshotter:
    """Everything but the layout of a snapshot's directory and the mounts it needs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.snapshots_dir = self.root / "snapshots"
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SnapshotStateError(
                f"open snapshotter {self.root}: in use by another process") from None
        self._mutex = threading.RLock()
        self._meta = MetadataStore(self.root / "metadata.db")
        self.cleanup()

    def close(self) -> None:
        self._meta.close()
        os.close(self._lock_fd)

    def __enter__(self) -> BaseSnapshotter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- to be provided by implementations ----------------------------------------------------
    def _populate(self, new_dir: Path, parents: list[Row], kind: Kind) -> None:
        """Fill a new snapshot directory (fs/, work/...) before it is published."""
        raise NotImplementedError

    def _mounts(self, row: Row, parents: list[Row]) -> list[Mount]:
        raise NotImplementedError

    # -- paths --------------------------------------------------------------------------------
    def _dir(self, snapshot_id: int) -> Path:
        return self.snapshots_dir / str(snapshot_id)

    def fs_dir(self, snapshot_id: int) -> Path:
        return self._dir(snapshot_id) / "fs"

    # -- API ----------------------------------------------------------------------------------
    def prepare(self, key: str, parent: str | None,
                labels: Mapping[str, str] | None = None) -> list[Mount]:
        """A new active (writable) snapshot on top of committed `parent`."""
        return self._create(key, parent, "active", labels)

    def view(self, key: str, parent: str | None,
             labels: Mapping[str, str] | None = None) -> list[Mount]:
        """A new read-only view of committed `parent`."""
        return self._create(key, parent, "view", labels)

    def _create(self, key: str, parent: str | None, kind: Kind,
                labels: Mapping[str, str] | None) -> list[Mount]:
        if not key:
            raise InvalidSnapshotKey("snapshot key must not be empty")
        with self._mutex, self._meta.transaction():
            parent_row = None
            if parent:
                parent_row = self._meta.get(parent)
                if parent_row.kind != "committed":
                    raise SnapshotStateError(
                        f"prepare {key!r}: parent {parent!r} is {parent_row.kind}, "
                        f"not committed")
            snapshot_id = self._meta.insert(key, parent_row.id if parent_row else None, kind,
                                            labels)
            row = self._meta.get_by_id(snapshot_id)
            parents = self._meta.chain(row)
            staging = Path(tempfile.mkdtemp(prefix="new-", dir=self.snapshots_dir))
            try:
                self._populate(staging, parents, kind)
                os.rename(staging, self._dir(snapshot_id))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return self._mounts(row, parents)

    def mounts(self, key: str) -> list[Mount]:
        """The mounts of an active snapshot or a view."""
        with self._mutex:
            row = self._meta.get(key)
            if row.kind == "committed":
                raise SnapshotStateError(f"mounts {key!r}: committed snapshots are not mounted")
            return self._mounts(row, self._meta.chain(row))

    def commit(self, name: str, key: str) -> None:
        """Turn active snapshot `key` into committed snapshot `name` (the key goes away)."""
        if not name:
            raise InvalidSnapshotKey("commit name must not be empty")
        with self._mutex, self._meta.transaction():
            row = self._meta.get(key)
            if row.kind != "active":
                raise SnapshotStateError(f"commit {key!r}: is {row.kind}, not active")
            self._meta.rename_committed(row.id, name)
        self._after_commit(row.id)

    def _after_commit(self, snapshot_id: int) -> None:
        """Hook: tidy a freshly committed snapshot's directory."""

    def remove(self, key: str) -> None:
        """Remove a snapshot that has no children (unmount its mounts first)."""
        with self._mutex:
            with self._meta.transaction():
                row = self._meta.get(key)
                if self._meta.children(row.id):
                    raise SnapshotStateError(f"remove {key!r}: snapshot has children")
                self._meta.delete(row.id)
            doomed = self.snapshots_dir / f"rm-{row.id}"
            try:
                os.rename(self._dir(row.id), doomed)
            except FileNotFoundError:
                return
            _rmtree(doomed)

    def stat(self, key: str) -> Info:
        with self._mutex:
            return self._meta.get(key).info()

    def walk(self) -> Iterator[Info]:
        with self._mutex:
            rows = self._meta.all()
        for row in rows:
            yield row.info()

    def usage(self, key: str) -> Usage:
        """Bytes (allocated blocks) and inodes of the snapshot's own files."""
        with self._mutex:
            row = self._meta.get(key)
        return _disk_usage(self.fs_dir(row.id))

    def upper_dir(self, key: str) -> Path:
        """Where apply_layer writes into active snapshot `key` without mounting it."""
        with self._mutex:
            row = self._meta.get(key)
        if row.kind != "active":
            raise SnapshotStateError(f"upper dir of {key!r}: is {row.kind}, not active")
        return self.fs_dir(row.id)

    def parent_dirs(self, key: str) -> list[Path]:
        """The fs directories of `key`'s ancestors, nearest first (apply_layer's `lowers`)."""
        with self._mutex:
            row = self._meta.get(key)
            return [self.fs_dir(p.id) for p in self._meta.chain(row)]

    # -- crash recovery -----------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove directories no metadata row refers to (leftovers of a crash)."""
        removed = []
        with self._mutex:
            known = {str(i) for i in self._meta.ids()}
            for entry in os.listdir(self.snapshots_dir):
                if entry not in known:
                    _rmtree(self.snapshots_dir / entry)
                    removed.append(entry)
        return removed


def _rmtree(path: Path) -> None:
    """Remove a snapshot directory, however deep a layer made it."""
    try:
        parent_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        remove_tree(parent_fd, os.fsencode(path.name))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SnapshotError(f"remove {path}: {exc.strerror} (is it still mounted?)") from exc
    finally:
        os.close(parent_fd)


def _disk_usage(top: Path) -> Usage:
    """Allocated bytes and inodes below `top` (hardlinks counted once), any depth."""
    size = inodes = 0
    seen: set[tuple[int, int]] = set()
    pending = [top]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                inodes += 1
                size += st.st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
    return Usage(size=size, inodes=inodes)
