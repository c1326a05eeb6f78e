"""The images domain's repository: images, their names, the blobs they reference, layers."""

from __future__ import annotations

import sqlite3

from pyengine.errors import NotFound
from pyengine.store.records import ImageRecord, LayerRecord, NameRecord, now_rfc3339
from pyengine.store.sqlite import Database


class ImageRepository:
    """Reads and writes of the images tables, over the engine's one `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # images -------------------------------------------------------------------------------

    def put_image(
        self, image: ImageRecord, blobs: list[str], names: list[tuple[str, str]]
    ) -> list[str]:
        """Record an image, its blobs and names atomically; return images whose names moved."""
        with self.db.transaction() as conn:
            existing = conn.execute("SELECT id FROM images WHERE id=?", (image.id,)).fetchone()
            if existing is None:
                conn.execute(
                    "INSERT INTO images VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                        image.parent,
                    ),
                )
            conn.executemany(
                "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
                [(image.id, d) for d in blobs],
            )
            return _set_names(conn, image.id, names)

    def add_names(self, image_id: str, names: list[tuple[str, str]]) -> list[str]:
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone() is None:
                raise NotFound(f"No such image: {image_id}")
            return _set_names(conn, image_id, names)

    def add_blobs(self, image_id: str, blobs: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
                [(image_id, d) for d in blobs],
            )

    def remove_name(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM names WHERE name=?", (name,))

    def remove_names(self, image_id: str) -> list[str]:
        """Untag an image completely (it stays, dangling); return the names removed."""
        with self.db.transaction() as conn:
            names = _names_of(conn, image_id)
            conn.execute("DELETE FROM names WHERE image_id=?", (image_id,))
            return names

    def delete_image(self, image_id: str) -> list[str]:
        """Delete an image and all its names; return the names removed."""
        with self.db.transaction() as conn:
            names = _names_of(conn, image_id)
            conn.execute("DELETE FROM names WHERE image_id=?", (image_id,))
            conn.execute("DELETE FROM image_blobs WHERE image_id=?", (image_id,))
            conn.execute("DELETE FROM images WHERE id=?", (image_id,))
            conn.execute("UPDATE images SET parent='' WHERE parent=?", (image_id,))
            return names

    def image(self, image_id: str) -> ImageRecord:
        rows = self.db.query("SELECT * FROM images WHERE id=?", (image_id,))
        if not rows:
            raise NotFound(f"No such image: {image_id}")
        return ImageRecord(*rows[0])

    def images(self) -> list[ImageRecord]:
        rows = self.db.query("SELECT * FROM images ORDER BY created DESC")
        return [ImageRecord(*r) for r in rows]

    def parents(self, image_id: str) -> list[str]:
        """The image's parent, its parent's, ... nearest first (docker's Parent chain)."""
        out: list[str] = []
        rows = self.db.query("SELECT parent FROM images WHERE id=?", (image_id,))
        while rows and rows[0][0] and rows[0][0] not in out and rows[0][0] != image_id:
            out.append(rows[0][0])
            rows = self.db.query("SELECT parent FROM images WHERE id=?", (rows[0][0],))
        return out

    def count(self) -> int:
        return int(self.db.query("SELECT count(*) FROM images")[0][0])

    def image_ids_with_prefix(self, hex_prefix: str) -> list[str]:
        pattern = "sha256:" + hex_prefix.replace("%", "").replace("_", "") + "%"
        return [r[0] for r in self.db.query("SELECT id FROM images WHERE id LIKE ?", (pattern,))]

    # names --------------------------------------------------------------------------------

    def name(self, name: str) -> NameRecord | None:
        rows = self.db.query(
            "SELECT name, kind, image_id, created_at FROM names WHERE name=?", (name,)
        )
        return NameRecord(*rows[0]) if rows else None

    def names(self, image_id: str | None = None) -> list[NameRecord]:
        sql = "SELECT name, kind, image_id, created_at FROM names"
        if image_id is None:
            return [NameRecord(*r) for r in self.db.query(sql + " ORDER BY name")]
        return [
            NameRecord(*r)
            for r in self.db.query(sql + " WHERE image_id=? ORDER BY name", (image_id,))
        ]

    def image_blobs(self, image_id: str | None = None) -> set[str]:
        if image_id is None:
            return {r[0] for r in self.db.query("SELECT DISTINCT digest FROM image_blobs")}
        return {
            r[0]
            for r in self.db.query("SELECT digest FROM image_blobs WHERE image_id=?", (image_id,))
        }

    # layers -------------------------------------------------------------------------------

    def put_layer(self, layer: LayerRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO layers VALUES (?,?,?,?)",
                (layer.chain_id, layer.diff_id, layer.parent, layer.size),
            )

    def layer(self, chain_id: str) -> LayerRecord | None:
        rows = self.db.query("SELECT * FROM layers WHERE chain_id=?", (chain_id,))
        return LayerRecord(*rows[0]) if rows else None

    def delete_layer(self, chain_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM layers WHERE chain_id=?", (chain_id,))

    def chain(self, chain_id: str | None) -> list[str]:
        """A layer's chain ID and those of all its parents, top first."""
        out: list[str] = []
        while chain_id and chain_id not in out:
            out.append(chain_id)
            record = self.layer(chain_id)
            chain_id = record.parent if record else None
        return out


def _names_of(conn: sqlite3.Connection, image_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM names WHERE image_id=? ORDER BY kind DESC, name", (image_id,)
        )
    ]


def _set_names(conn: sqlite3.Connection, image_id: str, names: list[tuple[str, str]]) -> list[str]:
    moved_from = []
    stamp = now_rfc3339()
    for name, kind in names:
        row = conn.execute("SELECT image_id FROM names WHERE name=?", (name,)).fetchone()
        if row is not None and row[0] != image_id:
            moved_from.append(row[0])
        conn.execute(
            "INSERT INTO names(name, kind, image_id, created_at) VALUES (?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id, "
            "created_at=excluded.created_at",
            (name, kind, image_id, stamp),
        )
        if kind == "tag":
            conn.execute("UPDATE images SET last_tag_time=? WHERE id=?", (stamp, image_id))
    return moved_from
