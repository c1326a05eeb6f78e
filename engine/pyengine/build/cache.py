"""The build cache's repository (table build_cache, store migration 6) and the cache-mount
directories of RUN --mount=type=cache. Every call blocks (SQLite): run it off the loop."""

from __future__ import annotations

from dataclasses import dataclass

from pyengine.store import Database
from pyengine.store.records import now_rfc3339


@dataclass(frozen=True)
class CacheRecord:
    key: str  # the step's cache key (cachekeys.py)
    chain_id: str  # the layer's committed snapshot
    diff_id: str
    blob_digest: str
    blob_size: int
    media_type: str
    description: str  # the instruction, e.g. "RUN apt-get update"
    created_by: str  # the history entry's text
    created: str  # RFC 3339; the history entry's time
    last_used: str
    usage_count: int = 0
    size: int = 0  # the layer's unpacked size

    @property
    def id(self) -> str:
        return self.key.removeprefix("sha256:")[:25]


class BuildCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> CacheRecord | None:
        rows = self.db.query("SELECT * FROM build_cache WHERE key=?", (key,))
        return CacheRecord(*rows[0]) if rows else None

    def use(self, key: str) -> CacheRecord | None:
        """A hit: the record, its use counted."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE build_cache SET last_used=?, usage_count=usage_count+1 "
                         "WHERE key=?", (now_rfc3339(), key))
        return self.get(key)

    def put(self, record: CacheRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO build_cache VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (record.key, record.chain_id, record.diff_id, record.blob_digest,
                          record.blob_size, record.media_type, record.description,
                          record.created_by, record.created, record.last_used,
                          record.usage_count, record.size))

    def all(self) -> list[CacheRecord]:
        return [CacheRecord(*row) for row in
                self.db.query("SELECT * FROM build_cache ORDER BY last_used DESC")]

    def delete(self, keys: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM build_cache WHERE key=?", [(k,) for k in keys])
