"""SQLite metadata store (WAL mode, one connection guarded by a lock, explicit transactions)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pyengine.errors import DataLoss, EngineError, NotFound, ResourceExhausted, Unavailable
from pyengine.store.records import ImageRecord, LayerRecord, Lease, NameRecord

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    index_digest TEXT,
    created TEXT NOT NULL,
    os TEXT NOT NULL,
    architecture TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',
    chain_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    last_tag_time TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS names (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS names_by_image ON names(image_id);
CREATE TABLE IF NOT EXISTS image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
);
CREATE TABLE IF NOT EXISTS layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('content', 'snapshot')),
    key TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, key)
);
"""


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class MetadataStore:
    """All reads and writes of the daemon's metadata. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self.transaction() as db:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO meta(key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                elif int(row[0]) > SCHEMA_VERSION:
                    raise DataLoss(
                        f"metadata {path}: schema version {row[0]} is newer than this daemon's "
                        f"({SCHEMA_VERSION})"
                    )
        except sqlite3.DatabaseError as err:
            raise DataLoss(f"open metadata database {path}: {err}") from err

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock, self._errors("write"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """SQLite errors as engine errors naming the database and the cause."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            text = str(err)
            where = f"metadata {operation} in {self.path}: {text}"
            if "full" in text:
                raise ResourceExhausted(f"{where} (no space left on device)") from err
            if "locked" in text or "busy" in text:
                raise Unavailable(where) from err
            if "malformed" in text or "not a database" in text:
                raise DataLoss(where) from err
            raise EngineError(where) from err

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock, self._errors("read"):
            return self._db.execute(sql, args).fetchall()

    # images -------------------------------------------------------------------------------

    def put_image(
        self, image: ImageRecord, blobs: list[str], names: list[tuple[str, str]]
    ) -> list[str]:
        """Record an image, its blobs and names atomically; return images whose names moved."""
        with self.transaction() as db:
            existing = db.execute("SELECT id FROM images WHERE id=?", (image.id,)).fetchone()
            if existing is None:
                db.execute(
                    "INSERT INTO images VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        image.id,
                        image.manifest_digest,
                        image.manifest_media_type,
                        image.index_digest,
                        image.created,
                        image.os,
                        image.architecture,
                        image.variant,
                        image.chain_id,
                        image.size,
                        image.added_at,
                        image.last_tag_time,
                    ),
                )
            db.executemany(
                "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
                [(image.id, d) for d in blobs],
            )
            return self._set_names(db, image.id, names)

    def _set_names(
        self, db: sqlite3.Connection, image_id: str, names: list[tuple[str, str]]
    ) -> list[str]:
        moved_from = []
        stamp = now_rfc3339()
        for name, kind in names:
            row = db.execute("SELECT image_id FROM names WHERE name=?", (name,)).fetchone()
            if row is not None and row[0] != image_id:
                moved_from.append(row[0])
            db.execute(
                "INSERT INTO names(name, kind, image_id, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id, "
                "created_at=excluded.created_at",
                (name, kind, image_id, stamp),
            )
            if kind == "tag":
                db.execute("UPDATE images SET last_tag_time=? WHERE id=?", (stamp, image_id))
        return moved_from

    def add_names(self, image_id: str, names: list[tuple[str, str]]) -> list[str]:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone() is None:
                raise NotFound(f"No such image: {image_id}")
            return self._set_names(db, image_id, names)

    def add_blobs(self, image_id: str, blobs: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
                [(image_id, d) for d in blobs],
            )

    def remove_name(self, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM names WHERE name=?", (name,))

    def delete_image(self, image_id: str) -> list[str]:
        """Delete an image and all its names; return the names removed."""
        with self.transaction() as db:
            names = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM names WHERE image_id=? ORDER BY kind DESC, name", (image_id,)
                )
            ]
            db.execute("DELETE FROM names WHERE image_id=?", (image_id,))
            db.execute("DELETE FROM image_blobs WHERE image_id=?", (image_id,))
            db.execute("DELETE FROM images WHERE id=?", (image_id,))
            return names

    def image(self, image_id: str) -> ImageRecord:
        rows = self._query("SELECT * FROM images WHERE id=?", (image_id,))
        if not rows:
            raise NotFound(f"No such image: {image_id}")
        return ImageRecord(*rows[0])

    def images(self) -> list[ImageRecord]:
        return [ImageRecord(*r) for r in self._query("SELECT * FROM images ORDER BY created DESC")]

    def image_ids_with_prefix(self, hex_prefix: str) -> list[str]:
        pattern = "sha256:" + hex_prefix.replace("%", "").replace("_", "") + "%"
        return [r[0] for r in self._query("SELECT id FROM images WHERE id LIKE ?", (pattern,))]

    def name(self, name: str) -> NameRecord | None:
        rows = self._query(
            "SELECT name, kind, image_id, created_at FROM names WHERE name=?", (name,)
        )
        return NameRecord(*rows[0]) if rows else None

    def names(self, image_id: str | None = None) -> list[NameRecord]:
        sql = "SELECT name, kind, image_id, created_at FROM names"
        if image_id is None:
            return [NameRecord(*r) for r in self._query(sql + " ORDER BY name")]
        return [
            NameRecord(*r)
            for r in self._query(sql + " WHERE image_id=? ORDER BY name", (image_id,))
        ]

    def image_blobs(self, image_id: str | None = None) -> set[str]:
        if image_id is None:
            return {r[0] for r in self._query("SELECT DISTINCT digest FROM image_blobs")}
        return {
            r[0]
            for r in self._query("SELECT digest FROM image_blobs WHERE image_id=?", (image_id,))
        }

    # layers -------------------------------------------------------------------------------

    def put_layer(self, layer: LayerRecord) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO layers VALUES (?,?,?,?)",
                (layer.chain_id, layer.diff_id, layer.parent, layer.size),
            )

    def layer(self, chain_id: str) -> LayerRecord | None:
        rows = self._query("SELECT * FROM layers WHERE chain_id=?", (chain_id,))
        return LayerRecord(*rows[0]) if rows else None

    def delete_layer(self, chain_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM layers WHERE chain_id=?", (chain_id,))

    # leases -------------------------------------------------------------------------------

    def create_lease(self, purpose: str) -> str:
        lease_id = uuid.uuid4().hex
        with self.transaction() as db:
            db.execute(
                "INSERT INTO leases(id, purpose, created_at) VALUES (?,?,?)",
                (lease_id, purpose, now_rfc3339()),
            )
        return lease_id

    def lease_add(self, lease_id: str, kind: str, keys: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO lease_resources(lease_id, kind, key) VALUES (?,?,?)",
                [(lease_id, kind, k) for k in keys],
            )

    def delete_lease(self, lease_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM lease_resources WHERE lease_id=?", (lease_id,))
            db.execute("DELETE FROM leases WHERE id=?", (lease_id,))

    def leases(self) -> list[Lease]:
        out = []
        for lease_id, purpose, created in self._query("SELECT id, purpose, created_at FROM leases"):
            res = self._query(
                "SELECT kind, key FROM lease_resources WHERE lease_id=? ORDER BY kind, key",
                (lease_id,),
            )
            out.append(Lease(lease_id, purpose, created, [(k, v) for k, v in res]))
        return out

    def leased(self, kind: str) -> set[str]:
        return {r[0] for r in self._query("SELECT key FROM lease_resources WHERE kind=?", (kind,))}
