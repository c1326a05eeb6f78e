"""store/read_cache.py: a repository's rows kept in memory until its next write, served on the
event loop; a miss there goes to the worker pool, never to SQLite on the loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pyengine.containers.model import Container, Spec, State
from pyengine.containers.repository import ContainerRepository
from pyengine.services.workers import Workers
from pyengine.store import Database
from pyengine.store.read_cache import CacheMiss, ReadCache, from_memory
from pyengine.store.sqlite import OnTheLoop

SELECT = "SELECT name FROM meta_test ORDER BY name"


class CountingDatabase(Database):
    """Counts the reads that reached SQLite."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0
        self.before_read: list[Any] = []

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        self.reads += 1
        for hook in self.before_read:
            hook()
        return super().query(sql, args)


@pytest.fixture
def db(tmp_path: Path) -> CountingDatabase:
    database = CountingDatabase(tmp_path / "m.db")
    with database.transaction() as conn:
        conn.execute("CREATE TABLE meta_test (name TEXT)")
        conn.execute("INSERT INTO meta_test VALUES ('a')")
    return database


def add(cache: ReadCache, name: str) -> None:
    with cache.transaction() as conn:
        conn.execute("INSERT INTO meta_test VALUES (?)", (name,))


def test_rows_come_from_memory_until_a_write(db: CountingDatabase) -> None:
    cache = ReadCache(db)
    assert cache.query(SELECT) == [("a",)]
    assert cache.query(SELECT) == [("a",)]
    assert db.reads == 1
    add(cache, "b")
    assert cache.query(SELECT) == [("a",), ("b",)]
    assert db.reads == 2


def test_a_rolled_back_write_empties_it_too(db: CountingDatabase) -> None:
    cache = ReadCache(db)
    cache.query(SELECT)
    with pytest.raises(RuntimeError), cache.transaction() as conn:
        conn.execute("INSERT INTO meta_test VALUES ('gone')")
        raise RuntimeError("cut short")
    assert cache.query(SELECT) == [("a",)]
    assert db.reads == 2


def test_rows_read_inside_an_open_transaction_are_not_kept(db: CountingDatabase) -> None:
    """They may never be committed."""
    cache = ReadCache(db)
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO meta_test VALUES ('uncommitted')")
        assert cache.query(SELECT) == [("a",), ("uncommitted",)]
        raise RuntimeError("rolled back")
    assert cache.query(SELECT) == [("a",)]


def test_a_write_during_a_read_keeps_that_read_out(db: CountingDatabase) -> None:
    """A read that began before a write may carry rows from before it: not stored."""
    cache = ReadCache(db)
    db.before_read.append(lambda: add(cache, "b") if db.reads == 1 else None)
    cache.query(SELECT)  # raced by the write of "b"
    db.before_read.clear()
    assert cache.query(SELECT) == [("a",), ("b",)]
    assert db.reads == 2


def test_callers_get_their_own_list(db: CountingDatabase) -> None:
    cache = ReadCache(db)
    cache.query(SELECT).append(("mine",))
    assert cache.query(SELECT) == [("a",)]


def test_on_the_loop_a_miss_goes_to_the_pool_and_a_hit_does_not(
        db: CountingDatabase) -> None:
    cache = ReadCache(db)
    workers = Workers(size=2)
    trips: list[str] = []
    real_run = workers.run

    async def counted_run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append("pool")
        return await real_run(fn, *args, **kwargs)

    workers.run = counted_run  # type: ignore[method-assign]

    async def main() -> list[list[tuple]]:
        with pytest.raises(CacheMiss):  # SQLite is never asked on the loop
            cache.query(SELECT)
        first = await from_memory(workers, lambda: cache.query(SELECT))
        second = await from_memory(workers, lambda: cache.query(SELECT))
        return [first, second]

    try:
        assert asyncio.run(main()) == [[("a",)], [("a",)]]
    finally:
        workers.shutdown()
    assert trips == ["pool"]
    assert db.reads == 1


def test_from_memory_also_sends_uncached_tables_to_the_pool(db: CountingDatabase) -> None:
    workers = Workers(size=2)

    async def main() -> list[tuple]:
        with pytest.raises(OnTheLoop):
            db.query(SELECT)
        return await from_memory(workers, lambda: db.query(SELECT))

    try:
        assert asyncio.run(main()) == [("a",)]
    finally:
        workers.shutdown()


def test_the_container_repository_sees_its_own_writes(tmp_path: Path) -> None:
    repo = ContainerRepository(Database(tmp_path / "m.db"))
    c = Container(id="c" * 64, name="one", image_id="sha256:" + "1" * 64,
                  image_name="busybox", snapshot="c" * 64, created="2024-01-01T00:00:00Z",
                  spec=Spec(), state=State(), config={}, runtime="pyrunc")
    assert repo.all() == []
    repo.add(c)
    assert [x.name for x in repo.all()] == ["one"]
    repo.rename(c.id, "two")
    assert repo.names() == {"two": c.id}
    c.state.status = "running"
    repo.save_state(c.id, c.state)
    assert repo.get(c.id).state.status == "running"
    listed = repo.all()
    listed[0].state.status = "mutated by a caller"
    assert repo.all()[0].state.status == "running"
    repo.delete(c.id)
    assert repo.all() == []
