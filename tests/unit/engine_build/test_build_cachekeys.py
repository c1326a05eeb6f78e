"""The build cache's keys and its repository (SQLite, migration 6)."""

from __future__ import annotations

from pathlib import Path

from pyengine.build import cachekeys
from pyengine.build.cache import BuildCache, CacheRecord
from pyengine.store import Database


def test_keys_chain_over_the_base_and_every_part() -> None:
    k0 = cachekeys.start("sha256:base")
    assert k0 != cachekeys.start("")  # scratch
    k1 = cachekeys.extend(k0, "ENV A=b")
    assert k1 == cachekeys.extend(cachekeys.start("sha256:base"), "ENV A=b")
    assert cachekeys.extend(k1, "x") != cachekeys.extend(cachekeys.extend(k0, "ENV A=c"), "x")


def test_a_run_key_holds_the_build_args_it_gets() -> None:
    base = cachekeys.run_part("/bin/sh -c echo", (), {"A": "1"})
    assert base == cachekeys.run_part("/bin/sh -c echo", (), {"A": "1"})
    assert base != cachekeys.run_part("/bin/sh -c echo", (), {"A": "2"})
    assert base != cachekeys.run_part("/bin/sh -c echo", ("--network=none",), {"A": "1"})


def test_the_repository_counts_uses(tmp_path: Path) -> None:
    db = Database(tmp_path / "metadata.db")
    try:
        cache = BuildCache(db)
        record = CacheRecord("sha256:" + "a" * 64, "sha256:chain", "sha256:diff",
                             "sha256:blob", 10, "application/x", "RUN x", "/bin/sh -c x",
                             "2026-12-06T00:00:00Z", "2026-12-06T00:00:00Z", 1, 100)
        cache.put(record)
        assert cache.get(record.key) == record
        used = cache.use(record.key)
        assert used is not None and used.usage_count == 2
        assert record.id == "a" * 25
        cache.delete([record.key])
        assert cache.all() == []
    finally:
        db.close()
