"""Blob sources (migration 6): where each blob is known to be, most recent first; forgotten
one by one (a refused mount) and with the blobs the garbage collector removes."""

from __future__ import annotations

from pathlib import Path

from pyengine import gc
from pyengine.store import BlobSourceRepository, Database, ImageRepository, LeaseRepository
from test_engine_gc import FakeContent, FakeSnapshots, d


def test_sources_most_recent_first_per_registry(tmp_path: Path) -> None:
    sources = BlobSourceRepository(Database(tmp_path / "m.db"))
    sources.add("127.0.0.1:5000", "a/one", [d(1), d(2), d(1)])
    sources.add("127.0.0.1:5000", "b/two", [d(1)])
    sources.add("other:5000", "c/three", [d(1)])
    assert sources.repositories(d(1), "127.0.0.1:5000") == ["b/two", "a/one"]
    sources.add("127.0.0.1:5000", "a/one", [d(1)])  # seen again: now the most recent
    assert sources.repositories(d(1), "127.0.0.1:5000") == ["a/one", "b/two"]
    assert sources.repositories(d(1), "other:5000") == ["c/three"]
    sources.forget(d(1), "127.0.0.1:5000", "a/one")
    assert sources.repositories(d(1), "127.0.0.1:5000") == ["b/two"]
    assert sources.repositories(d(2), "127.0.0.1:5000") == ["a/one"]
    assert sources.repositories(d(3), "127.0.0.1:5000") == []


def test_collected_blobs_lose_their_sources(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    meta, leases, sources = ImageRepository(db), LeaseRepository(db), BlobSourceRepository(db)
    sources.add("r:5000", "x/y", [d(1), d(2)])
    content = FakeContent({d(1): 1, d(2): 2})
    collector = gc.Collector(leases, content, FakeSnapshots([]), meta)  # type: ignore[arg-type]  # fakes
    collector.register("images", lambda: gc.Roots(blobs={d(2)}))
    collector.on_blobs_deleted("images", sources.forget_blobs)
    assert collector.collect().blobs == [d(1)]
    assert sources.all() == [(d(2), "r:5000", "x/y")]
    collector.unregister("images")  # its forgetter goes with it
    collector.collect()
    assert sources.all() == [(d(2), "r:5000", "x/y")]
