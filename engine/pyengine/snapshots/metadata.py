"""Snapshot metadata in SQLite: one row per snapshot, keyed by name, with a stable numeric id.

The id names the snapshot's directory, so committing (renaming the key) never moves data.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyengine.snapshots.errors import SnapshotExists, SnapshotNotFound
from pyengine.snapshots.types import Info, Kind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES snapshots(id),
    kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
    created REAL NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);
"""


@dataclass(frozen=True)
class Row:
    """A snapshot row with its parent chain resolved to ids."""

    id: int
    key: str
    parent_id: int | None
    parent_key: str | None
    kind: Kind
    created: float
    labels: dict[str, str]

    def info(self) -> Info:
        return Info(self.key, self.parent_key, self.kind, self.created, self.labels)


class MetadataStore:
    """Transactions over metadata.db; callers serialise access (one lock per snapshotter)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back when the block raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    _SELECT = ("SELECT s.id, s.key, s.parent_id, p.key, s.kind, s.created, s.labels "
               "FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id")

    @staticmethod
    def _row(values: tuple) -> Row:
        return Row(values[0], values[1], values[2], values[3], values[4], values[5],
                   json.loads(values[6]))

    def get(self, key: str) -> Row:
        values = self._db.execute(self._SELECT + " WHERE s.key = ?", (key,)).fetchone()
        if values is None:
            raise SnapshotNotFound(f"snapshot {key!r}: not found")
        return self._row(values)

    def get_by_id(self, snapshot_id: int) -> Row:
        values = self._db.execute(self._SELECT + " WHERE s.id = ?", (snapshot_id,)).fetchone()
        if values is None:
            raise SnapshotNotFound(f"snapshot id {snapshot_id}: not found")
        return self._row(values)

    def chain(self, row: Row) -> list[Row]:
        """The row's ancestors, nearest first."""
        parents = []
        parent_id = row.parent_id
        while parent_id is not None:
            parent = self.get_by_id(parent_id)
            parents.append(parent)
            parent_id = parent.parent_id
        return parents

    def insert(self, key: str, parent_id: int | None, kind: Kind,
               labels: Mapping[str, str] | None) -> int:
        try:
            cursor = self._db.execute(
                "INSERT INTO snapshots (key, parent_id, kind, created, labels) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, parent_id, kind, time.time(), json.dumps(dict(labels or {}))))
        except sqlite3.IntegrityError as exc:
            raise SnapshotExists(f"snapshot {key!r}: already exists") from exc
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def rename_committed(self, snapshot_id: int, name: str) -> None:
        try:
            self._db.execute("UPDATE snapshots SET key = ?, kind = 'committed' WHERE id = ?",
                             (name, snapshot_id))
        except sqlite3.IntegrityError as exc:
            raise SnapshotExists(f"snapshot {name!r}: already exists") from exc

    def children(self, snapshot_id: int) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM snapshots WHERE parent_id = ?",
                                    (snapshot_id,)).fetchone()
        return int(count)

    def delete(self, snapshot_id: int) -> None:
        self._db.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))

    def ids(self) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT id FROM snapshots")}

    def all(self) -> list[Row]:
        return [self._row(v) for v in self._db.execute(self._SELECT + " ORDER BY s.id")]
