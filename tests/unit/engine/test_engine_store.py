"""The metadata database: repositories, nested transactions and numbered migrations, including
a database written by the daemon before migrations were numbered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pyengine import errors
from pyengine.store import Database, ImageRecord, ImageRepository, LayerRecord, LeaseRepository
from pyengine.store.migrations import LATEST, MIGRATIONS, Migration

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
FIXTURE = Path(__file__).parent / "fixtures" / "metadata_v1.sql"


def image(id_: str, chain: str = D1) -> ImageRecord:
    return ImageRecord(id_, D2, "application/vnd.oci.image.manifest.v1+json", None,
                       "2024-01-01T00:00:00Z", "linux", "amd64", "", chain, 10, "now")


def test_images_names_and_moves(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    repo = ImageRepository(db)
    repo.put_image(image(A), [D1, D2], [("docker.io/library/x:latest", "tag")])
    moved = repo.put_image(image(B), [D1], [("docker.io/library/x:latest", "tag")])
    assert moved == [A]
    found = repo.name("docker.io/library/x:latest")
    assert found is not None and found.image_id == B
    assert repo.names(A) == []
    assert repo.image_ids_with_prefix("bbbb") == [B]
    assert repo.image_blobs() == {D1, D2}
    assert repo.count() == 2
    assert repo.delete_image(B) == ["docker.io/library/x:latest"]
    with pytest.raises(errors.NotFound):
        repo.image(B)
    repo.add_names(A, [("docker.io/library/y:1", "tag")])
    assert repo.remove_names(A) == ["docker.io/library/y:1"]
    assert repo.image(A).id == A  # untagged, not deleted
    db.close()
    reopened = ImageRepository(Database(tmp_path / "m.db"))
    assert [i.id for i in reopened.images()] == [A]


def test_leases_and_layers(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    leases, repo = LeaseRepository(db), ImageRepository(db)
    lease = leases.create("pull x")
    leases.add(lease, "content", [D1])
    leases.add(lease, "snapshot", ["extract-1"])
    assert leases.leased("content") == {D1}
    assert leases.all()[0].resources == [("content", D1), ("snapshot", "extract-1")]
    leases.delete(lease)
    assert leases.all() == [] and leases.leased("content") == set()
    repo.put_layer(LayerRecord(D1, D1, None, 5))
    repo.put_layer(LayerRecord(D2, D2, D1, 6))
    layer = repo.layer(D1)
    assert layer is not None and layer.size == 5
    assert repo.chain(D2) == [D2, D1]


def test_transaction_rolls_back_and_nests(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    leases = LeaseRepository(db)
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO leases VALUES ('x', 'p', 'now')")
        raise RuntimeError("boom")
    assert leases.all() == []
    # repository calls inside one outer transaction commit or roll back together
    with pytest.raises(RuntimeError), db.transaction():
        lease = leases.create("a")
        leases.add(lease, "content", [D1])
        raise RuntimeError("boom")
    assert leases.all() == [] and leases.leased("content") == set()
    with db.transaction():
        lease = leases.create("b")
        leases.add(lease, "content", [D1])
    assert leases.leased("content") == {D1}


def test_new_database_is_at_the_latest_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    assert db.version() == LATEST == MIGRATIONS[-1].version
    versions = [m.version for m in MIGRATIONS]
    # increasing, each once; a gap is allowed while two branches add migrations in parallel
    # (Database.migrate applies every version above the current one, in order)
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert db.migrate() == []  # idempotent


def test_database_written_before_numbered_migrations_opens_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "metadata.db"
    old = sqlite3.connect(path)
    old.executescript(FIXTURE.read_text())
    old.close()
    db = Database(path)
    assert db.version() == LATEST
    indexes = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"image_blobs_by_digest", "lease_resources_by_kind"} <= indexes
    repo, leases = ImageRepository(db), LeaseRepository(db)
    [img] = repo.images()
    assert img.id == A and img.size == 300 and img.chain_id == D2
    assert [n.name for n in repo.names(A)] == [
        "docker.io/library/busybox:latest",
        "docker.io/library/busybox@sha256:" + "d" * 64,
    ]
    assert repo.image_blobs(A) == {A, "sha256:" + "d" * 64, D1}
    assert repo.chain(img.chain_id) == [D2, D1]
    [lease] = leases.all()
    assert lease.purpose == "pull x" and lease.resources == [("content", "sha256:" + "e" * 64)]
    # the new code keeps writing the old tables
    repo.put_image(image(B), [D1], [("docker.io/library/x:1", "tag")])
    assert repo.count() == 2


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Database(path).close()
    with pytest.raises(errors.DataLoss, match="newer than this daemon"):
        Database(path, MIGRATIONS[:1])


def test_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Database(path, MIGRATIONS[:1]).close()
    broken = (*MIGRATIONS[:1], Migration(2, "broken", "CREATE INDEX x ON nosuchtable(a)"))
    with pytest.raises(errors.EngineError):
        Database(path, broken)
    assert Database(path, MIGRATIONS[:1]).version() == 1


def test_a_failed_commit_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A COMMIT that fails (here a deferred foreign key; on the disk, full or an I/O error)
    leaves SQLite's transaction open: it is rolled back, so the next write is not refused
    with "cannot start a transaction within a transaction" (an exit record retried after a
    full disk is one such next write). A closed database says the daemon is stopping."""
    db = Database(tmp_path / "meta.db")
    with pytest.raises(errors.EngineError, match="FOREIGN KEY"), db.transaction() as conn:
        conn.execute("PRAGMA defer_foreign_keys=ON")
        conn.execute("INSERT INTO names (name, kind, image_id, created_at) "
                     "VALUES ('x', 'tag', 'nothing', 'now')")
    assert not db.in_transaction
    with db.transaction() as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('after', 'a failed commit')")
    assert db.query("SELECT value FROM meta WHERE key='after'") == [("a failed commit",)]
    assert db.query("SELECT count(*) FROM names") == [(0,)]
    db.close()
    with pytest.raises(errors.Unavailable, match="closed"):
        db.query("SELECT 1")
