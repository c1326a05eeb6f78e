"""Where blobs are known to be: the registry repositories a blob was pulled from or pushed to.

A push to another repository of the same registry offers those as cross-repository mounts
(`POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<source>`), as docker does with its v2
metadata. A source the registry refused is forgotten; so are the sources of blobs the garbage
collector removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyengine.store.sqlite import Database


class BlobSourceRepository:
    """The blob_sources table over the engine's one `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        """Record that `registry`/`repository` holds each of `digests` (now the most recent
        source of each)."""
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO blob_sources(digest, registry, repository) "
                "VALUES (?,?,?)",
                [(digest, registry, repository) for digest in dict.fromkeys(digests)],
            )

    def repositories(self, digest: str, registry: str) -> list[str]:
        """The repositories of `registry` known to hold `digest`, most recent first."""
        rows = self.db.query(
            "SELECT repository FROM blob_sources WHERE digest=? AND registry=? "
            "ORDER BY rowid DESC",
            (digest, registry),
        )
        return [row[0] for row in rows]

    def forget(self, digest: str, registry: str, repository: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM blob_sources WHERE digest=? AND registry=? AND repository=?",
                (digest, registry, repository),
            )

    def forget_blobs(self, digests: Iterable[str]) -> None:
        """Drop every source of `digests` (blobs no longer in the content store)."""
        with self.db.transaction() as conn:
            conn.executemany(
                "DELETE FROM blob_sources WHERE digest=?", [(d,) for d in digests]
            )

    def all(self) -> list[tuple[str, str, str]]:
        """(digest, registry, repository) rows, oldest first (for inspection and tests)."""
        return [
            (row[0], row[1], row[2])
            for row in self.db.query(
                "SELECT digest, registry, repository FROM blob_sources ORDER BY rowid"
            )
        ]
