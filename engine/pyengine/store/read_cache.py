"""A repository's read cache: the rows its queries returned, kept until its next write, so
that a hot read (docker ps: every container, its endpoints and ports) is served from memory,
on the event loop, with no trip to the worker pool and no SQLite.

A repository that owns its tables (nobody else writes them) reads through `query` and writes
through `transaction`. Every write transaction, committed or rolled back, empties the cache and
moves its generation on; a read stores its rows only when no write came between its start and
its end, and never rows read inside an open transaction (they may not be committed). So a row
in the cache is always a committed one, and once a write has returned, no read sees the rows
from before it.

On the event loop a read may not touch SQLite (`Database` refuses it): a miss there raises
`CacheMiss`, and the caller runs the same read in the worker pool instead (which fills the
cache for the next one): `from_memory`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pyengine.store.sqlite import OnTheLoop

if TYPE_CHECKING:
    import sqlite3

    from pyengine.services.workers import Workers
    from pyengine.store.sqlite import Database

T = TypeVar("T")

MAX_ENTRIES = 4096  # distinct (query, arguments) kept; beyond, the cache starts over


class CacheMiss(OnTheLoop):
    """A read on the event loop that only SQLite could answer."""


def _on_loop() -> bool:
    return asyncio._get_running_loop() is not None


class ReadCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._generation = 0
        self._rows: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of a read: from memory when no write came since they were read; else
        from SQLite (raising `CacheMiss` on the event loop)."""
        key = (sql, args)
        with self._lock:
            rows = self._rows.get(key)
            generation = self._generation
        if rows is not None:
            return list(rows)
        if _on_loop():
            raise CacheMiss(f"metadata read not cached: {sql.split(' FROM ')[-1][:60]}")
        rows = self.db.query(sql, args)
        if not self.db.in_transaction:
            with self._lock:
                if self._generation == generation:
                    if len(self._rows) >= MAX_ENTRIES:
                        self._rows.clear()
                    self._rows[key] = rows
        return list(rows)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`Database.transaction`, after which (however it ends) the cache starts over."""
        try:
            with self.db.transaction() as conn:
                yield conn
        finally:
            self.invalidate()

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._rows.clear()


async def from_memory(workers: Workers, read: Callable[[], T]) -> T:
    """`read()` on the loop when every query it makes is cached; else (a miss, or a read of a
    table no cache holds) in the worker pool. `read` must change nothing: it may run twice."""
    try:
        return read()
    except OnTheLoop:
        return await workers.run(read)
