"""The metadata database: one SQLite connection (WAL), its transactions and its migrations.

Repositories (store/images.py, store/leases.py, later one per domain) are built over a
`Database` and never open connections of their own. Calls are synchronous and may block on the
disk: the daemon only makes them from its bounded worker pool, never on the event loop (see
docs/ENGINE.md "Concurrency model"). A lock serialises them; `transaction()` nests, so a caller
can group several repository calls into one atomic write.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pyengine.errors import DataLoss, EngineError, ResourceExhausted, Unavailable
from pyengine.store.migrations import LATEST, MIGRATIONS, Migration


class Database:
    """The one connection to the metadata database. Thread-safe."""

    def __init__(self, path: Path, migrations: tuple[Migration, ...] = MIGRATIONS) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as err:
            raise DataLoss(f"open metadata database {path}: {err}") from err
        self.migrate(migrations)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- schema -----------------------------------------------------------------------------

    def version(self) -> int:
        """The schema version reached (0: an empty database)."""
        with self._lock, self._errors("read"):
            has_meta = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
            if has_meta is None:
                return 0
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key='schema_version'"
            ).fetchone()
            return int(row[0]) if row else 0

    def migrate(self, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
        """Apply the migrations above the current version, each in its own transaction."""
        latest = migrations[-1].version if migrations else 0
        applied: list[int] = []
        current = self.version()
        if current > latest:
            raise DataLoss(
                f"metadata {self.path}: schema version {current} is newer than this daemon's "
                f"({latest})"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            with self.transaction() as conn:
                for statement in migration.sql.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(migration.version),),
                )
            applied.append(migration.version)
        return applied

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error). Nested
        calls join the outer transaction."""
        _off_the_loop()
        with self._lock, self._errors("write"):
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # a COMMIT that failed (full, I/O) may leave the transaction open: every later
                # BEGIN would fail with "within a transaction"
                if self._conn.in_transaction:
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    @property
    def in_transaction(self) -> bool:
        """A write transaction is open (on whichever thread holds it)."""
        return self._depth > 0

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        _off_the_loop()
        with self._lock, self._errors("read"):
            return self._conn.execute(sql, args).fetchall()

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """SQLite errors as engine errors naming the database and the cause."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            text = str(err)
            where = f"metadata {operation} in {self.path}: {text}"
            if isinstance(err, sqlite3.ProgrammingError) and "closed" in text:
                raise Unavailable(where) from err  # the daemon is stopping
            if "full" in text:
                raise ResourceExhausted(f"{where} (no space left on device)") from err
            if "locked" in text or "busy" in text:
                raise Unavailable(where) from err
            if "malformed" in text or "not a database" in text:
                raise DataLoss(where) from err
            raise EngineError(where) from err


class OnTheLoop(EngineError):
    """A metadata call made on the event loop's thread (run it in the worker pool)."""


def _off_the_loop() -> None:
    """SQLite blocks (disk, the lock, a busy database): never on the event loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise OnTheLoop("metadata: called on the event loop; run it in the worker pool")


__all__ = ["LATEST", "Database"]
