"""The volumes domain's repository over the engine's one `Database`: volumes and which
containers use them (`active` while such a container runs)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pyengine.errors import NotFound
from pyengine.store import Database
from pyengine.volumes.model import Volume

COLUMNS = "name, driver, labels, options, created_at, anonymous"


def _decode(row: tuple) -> Volume:
    name, driver, labels, options, created, anonymous = row
    return Volume(name=name, driver=driver, labels=json.loads(labels),
                  options=json.loads(options), created_at=created, anonymous=bool(anonymous))


class VolumeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, v: Volume) -> Volume:
        """Record `v`, or return the volume already recorded under its name (docker's create
        of an existing name answers that volume)."""
        with self.db.transaction() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM volumes WHERE name=?",
                               (v.name,)).fetchone()
            if row is not None:
                return _decode(row)
            conn.execute(f"INSERT INTO volumes({COLUMNS}) VALUES (?,?,?,?,?,?)",
                         (v.name, v.driver, json.dumps(v.labels, sort_keys=True),
                          json.dumps(v.options, sort_keys=True), v.created_at,
                          int(v.anonymous)))
            return v

    def get(self, name: str) -> Volume:
        rows = self.db.query(f"SELECT {COLUMNS} FROM volumes WHERE name=?", (name,))
        if not rows:
            raise NotFound(f"get {name}: no such volume")
        return _decode(rows[0])

    def find(self, name: str) -> Volume | None:
        rows = self.db.query(f"SELECT {COLUMNS} FROM volumes WHERE name=?", (name,))
        return _decode(rows[0]) if rows else None

    def all(self) -> list[Volume]:
        return [_decode(r) for r in
                self.db.query(f"SELECT {COLUMNS} FROM volumes ORDER BY name")]

    def users(self) -> dict[str, list[str]]:
        """volume name -> ids of the containers that use it."""
        out: dict[str, list[str]] = {}
        for name, cid in self.db.query(
                "SELECT volume, container_id FROM volume_users ORDER BY container_id"):
            out.setdefault(name, []).append(cid)
        return out

    def users_of(self, name: str) -> list[str]:
        return [r[0] for r in self.db.query(
            "SELECT container_id FROM volume_users WHERE volume=? ORDER BY container_id",
            (name,))]

    def delete_unused(self, name: str) -> list[str]:
        """Forget volume `name` unless a container uses it: then its users, and it stays."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM volumes WHERE name=?", (name,)).fetchone() is None:
                raise NotFound(f"get {name}: no such volume")
            users = [r[0] for r in conn.execute(
                "SELECT container_id FROM volume_users WHERE volume=? ORDER BY container_id",
                (name,))]
            if not users:
                conn.execute("DELETE FROM volumes WHERE name=?", (name,))
            return users

    # -- users --------------------------------------------------------------------------

    def use(self, cid: str, names: Iterable[str]) -> None:
        with self.db.transaction() as conn:
            for name in names:
                if conn.execute("SELECT 1 FROM volumes WHERE name=?", (name,)).fetchone() \
                        is None:
                    raise NotFound(f"get {name}: no such volume")
                conn.execute("INSERT OR IGNORE INTO volume_users(volume, container_id) "
                             "VALUES (?, ?)", (name, cid))

    def used_by(self, cid: str) -> list[Volume]:
        rows = self.db.query(
            f"SELECT {', '.join('v.' + c.strip() for c in COLUMNS.split(','))} FROM volumes v "
            "JOIN volume_users u ON u.volume = v.name WHERE u.container_id=? ORDER BY v.name",
            (cid,))
        return [_decode(r) for r in rows]

    def forget_user(self, cid: str) -> list[str]:
        """Drop `cid` as a user; the names of the volumes it used."""
        with self.db.transaction() as conn:
            names = [r[0] for r in conn.execute(
                "SELECT volume FROM volume_users WHERE container_id=?", (cid,))]
            conn.execute("DELETE FROM volume_users WHERE container_id=?", (cid,))
            return names

    def set_active(self, cid: str, active: bool) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE volume_users SET active=? WHERE container_id=?",
                         (int(active), cid))

    def active_users(self, name: str) -> int:
        return int(self.db.query(
            "SELECT COUNT(*) FROM volume_users WHERE volume=? AND active=1", (name,))[0][0])

    def deactivate_all_but(self, running: set[str]) -> None:
        with self.db.transaction() as conn:
            for (cid,) in conn.execute(
                    "SELECT DISTINCT container_id FROM volume_users WHERE active=1").fetchall():
                if cid not in running:
                    conn.execute("UPDATE volume_users SET active=0 WHERE container_id=?",
                                 (cid,))
