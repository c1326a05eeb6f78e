"""ContentStore: blobs/<alg>/<hex> (read-only, verified) and ingest/<key>/ (in flight)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pyengine.content.errors import BlobExists, BlobNotFound, DigestMismatch
from pyengine.content.writer import Writer, read_small_file
from pyengine.digest import Digest, InvalidDigest


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int


@dataclass(frozen=True)
class IngestStatus:
    """An in-flight (or abandoned) ingest."""

    ref: str
    offset: int
    total: int | None
    expected: str | None
    started_at: float | None
    updated_at: float
    path: Path


class ContentStore:
    """Blobs by digest with verified, resumable, crash-safe ingestion."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.blobs_root = self.root / "blobs"
        self.ingest_root = self.root / "ingest"
        for directory in (self.blobs_root / "sha256", self.ingest_root):
            directory.mkdir(parents=True, exist_ok=True)

    # -- paths -------------------------------------------------------------------------------
    def path(self, digest: str | Digest) -> Path:
        """Where a committed blob lives (whether or not it exists)."""
        parsed = Digest.parse(digest)
        return self.blobs_root / parsed.algorithm / parsed.hex

    def ingest_dir(self, ref: str) -> Path:
        """The ingest directory of a writer ref (named by the ref's sha256)."""
        return self.ingest_root / hashlib.sha256(ref.encode()).hexdigest()

    # -- reading -----------------------------------------------------------------------------
    def exists(self, digest: str | Digest) -> bool:
        """True when the blob is committed."""
        return self.path(digest).is_file()

    def info(self, digest: str | Digest) -> BlobInfo:
        """Digest and size of a committed blob; BlobNotFound otherwise."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"content {digest}: not found in {self.blobs_root}") from None
        return BlobInfo(str(Digest.parse(digest)), size)

    def open(self, digest: str | Digest) -> BinaryIO:
        """A read-only file of the blob (the caller closes it)."""
        path = self.path(digest)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"content {digest}: not found in {self.blobs_root}") from None

    def read_bytes(self, digest: str | Digest, max_size: int | None = None) -> bytes:
        """The whole blob (manifests, configs); refuses blobs larger than ``max_size``."""
        with self.open(digest) as handle:
            if max_size is not None and os.fstat(handle.fileno()).st_size > max_size:
                raise BlobNotFound(f"content {digest}: larger than {max_size} bytes") from None
            return handle.read()

    def verify(self, digest: str | Digest) -> None:
        """Re-hash a committed blob; raises DigestMismatch if it was altered on disk."""
        expected = Digest.parse(digest)
        hasher = expected.new_hash()
        with self.open(expected) as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
        if hasher.hexdigest() != expected.hex:
            raise DigestMismatch(f"content {expected}: stored data no longer matches its digest")

    def walk(self) -> Iterator[BlobInfo]:
        """Every committed blob, sorted by digest."""
        for alg_dir in sorted(self.blobs_root.iterdir()):
            if not alg_dir.is_dir():
                continue
            for entry in sorted(os.scandir(alg_dir), key=lambda e: e.name):
                if not entry.is_file():
                    continue
                try:
                    digest = Digest.parse(f"{alg_dir.name}:{entry.name}")
                except InvalidDigest:
                    continue  # not a blob (a stray file): ignore it
                yield BlobInfo(str(digest), entry.stat().st_size)

    # -- writing -----------------------------------------------------------------------------
    def writer(self, ref: str, expected: str | None = None, size: int | None = None) -> Writer:
        """Open (or resume) the ingest for ``ref``. Raises BlobExists if already committed."""
        if expected and self.exists(expected):
            # A crash between the commit's rename and the ingest's removal leaves both.
            self._remove_if_unlocked(self.ingest_dir(ref))
            raise BlobExists(f"content {expected}: already exists")
        return Writer(self, ref, expected, size)

    def write_blob(self, data: bytes, expected: str | None = None, ref: str | None = None) -> str:
        """Store ``data`` in one go (manifests, configs). Returns its digest."""
        digest = str(Digest.parse(expected)) if expected else str(Digest.from_bytes(data))
        if self.exists(digest):
            if not expected:
                return digest
            actual = Digest.from_bytes(data, Digest.parse(digest).algorithm)
            if str(actual) != digest:
                raise DigestMismatch(f"content {digest}: data hashes to {actual}")
            return digest
        # A private ref per call: concurrent writers of the same small blob never wait on each
        # other's lock; the second commit finds the blob there and just drops its ingest.
        private_ref = ref or f"write-{digest}-{os.urandom(8).hex()}"
        with Writer(self, private_ref, digest, len(data)) as writer:
            if writer.offset:
                writer.reset()
            writer.write(data)
            return writer.commit()

    def delete(self, digest: str | Digest) -> None:
        """Remove a committed blob (garbage collection decides which)."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            raise BlobNotFound(f"content {digest}: not found in {self.blobs_root}") from None

    # -- ingests -----------------------------------------------------------------------------
    def ingests(self) -> list[IngestStatus]:
        """In-flight and abandoned ingests (for resume, cleanup and ``system df``)."""
        out = []
        for entry in sorted(self.ingest_root.iterdir()):
            status = self._ingest_status(entry)
            if status is not None:
                out.append(status)
        return out

    def ingest_status(self, ref: str) -> IngestStatus | None:
        """The ingest of ``ref``, if any."""
        return self._ingest_status(self.ingest_dir(ref))

    def _ingest_status(self, directory: Path) -> IngestStatus | None:
        if not directory.is_dir():
            return None
        data = directory / "data"
        try:
            stat = data.stat()
            offset, updated = stat.st_size, stat.st_mtime
        except FileNotFoundError:
            offset, updated = 0, directory.stat().st_mtime
        total = read_small_file(directory / "total")
        started = read_small_file(directory / "started")
        return IngestStatus(
            ref=read_small_file(directory / "ref") or "",
            offset=offset,
            total=int(total) if total else None,
            expected=read_small_file(directory / "expected"),
            started_at=float(started) if started else None,
            updated_at=updated,
            path=directory,
        )

    def prune_ingests(self, older_than: float) -> list[str]:
        """Remove ingests not written to since ``older_than`` (epoch seconds) and not locked
        by a live writer. Returns their refs."""
        removed = []
        for status in self.ingests():
            if status.updated_at < older_than and self._remove_if_unlocked(status.path):
                removed.append(status.ref)
        return removed

    @staticmethod
    def _remove_if_unlocked(directory: Path) -> bool:
        """Remove an ingest directory unless a live writer holds its lock."""
        import fcntl

        if not directory.is_dir():
            return False
        try:
            fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is active
        else:
            shutil.rmtree(directory, ignore_errors=True)
            return True
        finally:
            os.close(fd)

    def abort(self, ref: str) -> None:
        """Remove the ingest for ``ref`` (no-op when none)."""
        shutil.rmtree(self.ingest_dir(ref), ignore_errors=True)

    def __repr__(self) -> str:
        return f"ContentStore({str(self.root)!r})"


__all__ = ["BlobExists", "BlobInfo", "ContentStore", "IngestStatus"]
