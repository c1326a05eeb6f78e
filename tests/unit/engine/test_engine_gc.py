"""Engine-level garbage collection over in-memory stand-ins for the content store and the
snapshotter: roots from the images domain, from leases and from a fake container domain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyengine import gc
from pyengine.errors import NotFound
from pyengine.images.roots import image_roots
from pyengine.store import Database, ImageRecord, ImageRepository, LayerRecord, LeaseRepository


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int


@dataclass(frozen=True)
class Snap:
    name: str
    parent: str | None
    kind: str


class FakeContent:
    def __init__(self, blobs: dict[str, int]) -> None:
        self.blobs = dict(blobs)

    def walk(self):  # type: ignore[no-untyped-def]
        return [Blob(d, s) for d, s in sorted(self.blobs.items())]

    def delete(self, digest: str) -> None:
        if digest not in self.blobs:
            raise NotFound(digest)
        del self.blobs[digest]


class FakeSnapshots:
    def __init__(self, snaps: list[Snap]) -> None:
        self.snaps = {s.name: s for s in snaps}
        self.removed: list[str] = []

    def walk(self):  # type: ignore[no-untyped-def]
        return list(self.snaps.values())

    def remove(self, name: str) -> None:
        if any(s.parent == name for s in self.snaps.values()):
            raise AssertionError(f"removed {name} before its children")
        del self.snaps[name]
        self.removed.append(name)


def d(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def record(image_id: str, chain_id: str) -> ImageRecord:
    return ImageRecord(image_id, d(99), "m", None, "", "linux", "amd64", "", chain_id, 1, "now")


def test_collect_keeps_referenced_and_leased_and_removes_leaves_first(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    meta, leases = ImageRepository(db), LeaseRepository(db)
    # chain: c1 <- c2 (image A); c1 <- c3 <- c4 (orphans); extract-x active orphan
    for name, parent in ((d(1), None), (d(2), d(1)), (d(3), d(1)), (d(4), d(3))):
        meta.put_layer(LayerRecord(name, name, parent, 10))
    meta.put_image(record(d(50), d(2)), [d(50), d(60)], [("docker.io/library/a:1", "tag")])
    lease = leases.create("pull b")
    leases.add(lease, "content", [d(70)])
    content = FakeContent({d(50): 5, d(60): 6, d(70): 7, d(80): 8})
    snaps = FakeSnapshots([Snap(d(1), None, "committed"), Snap(d(2), d(1), "committed"),
                           Snap(d(3), d(1), "committed"), Snap(d(4), d(3), "committed"),
                           Snap("extract-x", d(2), "active"), Snap("container-1", d(2), "active")])
    collector = gc.Collector(leases, content, snaps, meta)  # type: ignore[arg-type]  # fakes
    collector.register("images", lambda: image_roots(meta))
    # a stand-in for the containers domain: it pins a blob the images do not
    collector.register("containers", lambda: gc.Roots(blobs={d(80)}, snapshots={d(4)}))
    assert [b.digest for b in collector.unreferenced()[0]] == []
    collector.unregister("containers")
    result = collector.collect()
    assert result.blobs == [d(80)]
    assert snaps.removed.index(d(4)) < snaps.removed.index(d(3))
    assert set(result.snapshots) == {d(3), d(4), "extract-x"}
    assert "container-1" in snaps.snaps  # not ours to collect
    assert meta.layer(d(3)) is None and meta.layer(d(2)) is not None
    assert result.bytes_freed == 8 + 10 + 10


def test_referenced_chains_follow_parents(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    meta = ImageRepository(db)
    meta.put_layer(LayerRecord(d(1), d(1), None, 1))
    meta.put_layer(LayerRecord(d(2), d(2), d(1), 1))
    meta.put_image(record(d(50), d(2)), [], [])
    assert image_roots(meta).snapshots == {d(1), d(2)}
