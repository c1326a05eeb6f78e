"""The engine's lease repository: content and snapshots an operation in flight protects."""

from __future__ import annotations

import uuid

from pyengine.store.records import Lease, now_rfc3339
from pyengine.store.sqlite import Database

KINDS = ("content", "snapshot")


class LeaseRepository:
    """Leases over the engine's one `Database`; any domain's transfer may take one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, purpose: str) -> str:
        lease_id = uuid.uuid4().hex
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO leases(id, purpose, created_at) VALUES (?,?,?)",
                (lease_id, purpose, now_rfc3339()),
            )
        return lease_id

    def add(self, lease_id: str, kind: str, keys: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO lease_resources(lease_id, kind, key) VALUES (?,?,?)",
                [(lease_id, kind, k) for k in keys],
            )

    def delete(self, lease_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lease_resources WHERE lease_id=?", (lease_id,))
            conn.execute("DELETE FROM leases WHERE id=?", (lease_id,))

    def all(self) -> list[Lease]:
        out = []
        for lease_id, purpose, created in self.db.query(
            "SELECT id, purpose, created_at FROM leases"
        ):
            res = self.db.query(
                "SELECT kind, key FROM lease_resources WHERE lease_id=? ORDER BY kind, key",
                (lease_id,),
            )
            out.append(Lease(lease_id, purpose, created, [(k, v) for k, v in res]))
        return out

    def leased(self, kind: str) -> set[str]:
        return {
            r[0] for r in self.db.query("SELECT key FROM lease_resources WHERE kind=?", (kind,))
        }
