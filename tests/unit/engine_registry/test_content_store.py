"""ContentStore: verified commits, resumable ingests, crash safety."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from pyengine.content import (
    BlobExists,
    BlobNotFound,
    ContentStore,
    DigestMismatch,
    IngestLocked,
    SizeMismatch,
)
from pyengine.errors import AlreadyExists, DataLoss, InvalidArgument, NotFound

DATA = os.urandom(300_000)
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()
ENGINE = str(Path(__file__).resolve().parents[3] / "engine")


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path / "content")


def test_write_commit_read(store):
    with store.writer("ref-1", DIGEST, len(DATA)) as writer:
        writer.write(DATA[:1000])
        writer.write(memoryview(DATA)[1000:])
        assert writer.commit() == DIGEST
    assert store.exists(DIGEST)
    assert store.info(DIGEST).size == len(DATA)
    assert store.read_bytes(DIGEST) == DATA
    with store.open(DIGEST) as handle:
        assert handle.read(10) == DATA[:10]
    assert store.path(DIGEST) == store.root / "blobs" / "sha256" / DIGEST[7:]
    assert oct(store.path(DIGEST).stat().st_mode & 0o777) == "0o444"
    assert [b.digest for b in store.walk()] == [DIGEST]
    assert store.ingests() == []
    store.verify(DIGEST)


def test_resume_continues_at_offset(store):
    writer = store.writer("ref-1", DIGEST, len(DATA))
    writer.write(DATA[:12345])
    writer.close()
    status = store.ingest_status("ref-1")
    assert (status.offset, status.total, status.expected) == (12345, len(DATA), DIGEST)
    [listed] = store.ingests()
    assert listed.ref == "ref-1"
    writer = store.writer("ref-1", DIGEST, len(DATA))
    assert writer.offset == 12345
    writer.write(DATA[12345:])
    assert writer.commit() == DIGEST
    assert store.ingests() == []


def test_resume_with_other_expected_digest_starts_over(store):
    writer = store.writer("ref-1", DIGEST, len(DATA))
    writer.write(b"junk")
    writer.close()
    other = b"other content"
    other_digest = "sha256:" + hashlib.sha256(other).hexdigest()
    writer = store.writer("ref-1", other_digest, len(other))
    assert writer.offset == 0
    writer.write(other)
    assert writer.commit() == other_digest


def test_digest_mismatch_discards_and_leaves_no_blob(store):
    writer = store.writer("ref-1", DIGEST, len(DATA))
    writer.write(DATA[:-1] + bytes([DATA[-1] ^ 1]))
    with pytest.raises(DigestMismatch) as info:
        writer.commit()
    assert isinstance(info.value, DataLoss)
    assert DIGEST in str(info.value)
    assert list(store.walk()) == [] and store.ingests() == []
    assert not store.exists(DIGEST)


def test_size_checks(store):
    writer = store.writer("ref-1", DIGEST, len(DATA))
    writer.write(DATA[:10])
    with pytest.raises(SizeMismatch) as info:
        writer.commit()
    assert isinstance(info.value, InvalidArgument)
    with pytest.raises(SizeMismatch):
        writer.write(DATA)  # would exceed the expected size
    writer.abort()
    assert store.ingests() == []


def test_unknown_digest_commit_and_expected_at_commit(store):
    with store.writer("anon") as writer:
        writer.write(b"abc")
        digest = writer.commit(size=3, expected="sha256:" + hashlib.sha256(b"abc").hexdigest())
    assert store.read_bytes(digest) == b"abc"


def test_existing_blob_and_write_blob(store):
    assert store.write_blob(DATA) == DIGEST
    assert store.write_blob(DATA, expected=DIGEST) == DIGEST
    with pytest.raises(BlobExists) as info:
        store.writer("ref-2", DIGEST, len(DATA))
    assert isinstance(info.value, AlreadyExists)
    with pytest.raises(DigestMismatch):
        store.write_blob(b"x", expected="sha256:" + "0" * 64)
    assert not store.exists("sha256:" + "0" * 64)


def test_missing_blob_errors(store):
    missing = "sha256:" + "1" * 64
    for call in (store.info, store.open, store.read_bytes, store.delete):
        with pytest.raises(BlobNotFound) as info:
            call(missing)
        assert isinstance(info.value, NotFound) and missing in str(info.value)


def test_delete(store):
    store.write_blob(DATA)
    store.delete(DIGEST)
    assert not store.exists(DIGEST) and list(store.walk()) == []


def test_one_writer_per_ref(store):
    first = store.writer("ref-1", DIGEST, len(DATA))
    with pytest.raises(IngestLocked):
        store.writer("ref-1", DIGEST, len(DATA))
    first.close()
    store.writer("ref-1", DIGEST, len(DATA)).close()


def test_concurrent_writers_of_different_refs(store):
    blobs = [os.urandom(50_000) for _ in range(8)]

    def write(i: int) -> None:
        digest = "sha256:" + hashlib.sha256(blobs[i]).hexdigest()
        with store.writer(f"ref-{i}", digest, len(blobs[i])) as writer:
            for start in range(0, len(blobs[i]), 4096):
                writer.write(blobs[i][start:start + 4096])
            writer.commit()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(list(store.walk())) == 8 and store.ingests() == []


def test_abort_by_ref(store):
    writer = store.writer("ref-1", DIGEST, len(DATA))
    writer.write(DATA[:10])
    writer.close()
    store.abort("ref-1")
    assert store.ingests() == []


def test_kill_9_while_writing_leaves_only_a_resumable_ingest(store):
    """A writer killed mid-blob: no blob appears, and the next writer resumes its data."""
    script = textwrap.dedent(
        f"""
        import sys, os
        sys.path.insert(0, {ENGINE!r})
        from pyengine.content import ContentStore
        store = ContentStore({str(store.root)!r})
        writer = store.writer("killed", {DIGEST!r}, {len(DATA)})
        data = sys.stdin.buffer.read({len(DATA)})
        writer.write(data[:200000])
        writer._file.flush()
        print("written", flush=True)
        sys.stdin.readline()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        child.stdin.write(DATA)
        child.stdin.flush()
        assert child.stdout.readline().strip() == b"written"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert not store.exists(DIGEST) and list(store.walk()) == []
    [status] = store.ingests()
    assert status.ref == "killed" and status.offset == 200000
    writer = store.writer("killed", DIGEST, len(DATA))
    assert writer.offset == 200000
    writer.write(DATA[200000:])
    assert writer.commit() == DIGEST


def test_prune_ingests_skips_live_writers(store):
    idle = store.writer("idle", DIGEST, len(DATA))
    idle.write(b"x")
    idle.close()
    live = store.writer("live")
    live.write(b"y")
    assert store.prune_ingests(older_than=0) == []  # nothing is that old
    assert store.prune_ingests(older_than=time.time() + 10) == ["idle"]
    assert [i.ref for i in store.ingests()] == ["live"]
    live.close()


def test_concurrent_write_blob_of_the_same_data(store):
    errors = []

    def write() -> None:
        try:
            assert store.write_blob(DATA) == DIGEST
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.read_bytes(DIGEST) == DATA and store.ingests() == []


def test_overlong_ingest_is_restarted(store):
    writer = store.writer("ref-1")
    writer.write(DATA + b"extra")
    writer.close()
    writer = store.writer("ref-1", DIGEST, len(DATA))
    assert writer.offset == 0
    writer.write(DATA)
    assert writer.commit() == DIGEST


def test_leftover_ingest_of_a_committed_blob_is_cleaned(store):
    """kill -9 between the commit's rename and the ingest removal: both exist."""
    store.write_blob(DATA)
    leftover = store.ingest_dir("ref-1")
    leftover.mkdir(parents=True)
    (leftover / "ref").write_text("ref-1")
    with pytest.raises(BlobExists):
        store.writer("ref-1", DIGEST, len(DATA))
    assert store.ingests() == []


def test_walk_ignores_stray_files(store):
    store.write_blob(DATA)
    (store.root / "blobs" / "sha256" / "not-a-digest.tmp").write_bytes(b"x")
    (store.root / "blobs" / "md5").mkdir()
    assert [b.digest for b in store.walk()] == [DIGEST]
