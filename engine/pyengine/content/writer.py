"""A resumable ingest: bytes go to ingest/<key>/data, commit verifies then renames into blobs/.

Layout of one ingest directory (all small files are written atomically):
  ref       the caller's ref string (e.g. the remote layer's digest plus the repository)
  expected  the expected digest, if known
  total     the expected size, if known
  started   creation time (seconds since the epoch)
  lock      flock()ed by the writer that owns the ingest
  data      the bytes received so far

Crash safety: a blob only appears in blobs/ through rename() of a fully written, fsync()ed
and verified file, so a kill -9 at any point leaves at most an ingest to resume or discard.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pyengine.content.errors import DigestMismatch, IngestLocked, SizeMismatch, StoreFull
from pyengine.digest import SHA256, Digest

if TYPE_CHECKING:
    from pyengine.content.store import ContentStore

_REHASH_CHUNK = 1 << 20


def write_small_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_small_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _remove_ingest_dir(directory: Path) -> None:
    """Remove an ingest directory (only small flat files; no shutil needed)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(directory / name)
        except FileNotFoundError:
            pass
    try:
        os.rmdir(directory)
    except (FileNotFoundError, OSError):
        pass


def _raise_os_error(operation: str, path: Path, exc: OSError) -> NoReturn:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise StoreFull(f"{operation} {path}: {os.strerror(exc.errno)}") from None
    raise exc


class Writer:
    """Writes one blob. Reopening the same ref continues at ``offset``."""

    def __init__(
        self, store: ContentStore, ref: str, expected: str | None, size: int | None
    ) -> None:
        self.store = store
        self.ref = ref
        self.expected = Digest.parse(expected) if expected else None
        self.total = size
        self.dir = store.ingest_dir(ref)
        self._committed = False
        self._closed = False
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            self._lock_fd = os.open(self.dir / "lock", flags, 0o600)
        except OSError as exc:
            _raise_os_error("create ingest", self.dir, exc)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise IngestLocked(f"ingest {ref!r}: locked by another writer") from None
        try:
            self._open_data()
        except OSError as exc:
            self._release_lock()
            _raise_os_error("open ingest", self.dir, exc)
        except BaseException:
            self._release_lock()
            raise

    def _open_data(self) -> None:
        previous_expected = read_small_file(self.dir / "expected")
        previous_total = read_small_file(self.dir / "total")
        wanted_expected = str(self.expected) if self.expected else None
        wanted_total = str(self.total) if self.total is not None else None
        stale = bool(
            (wanted_expected and previous_expected and previous_expected != wanted_expected)
            or (wanted_total and previous_total and previous_total != wanted_total)
        )
        data_path = self.dir / "data"
        if stale:
            data_path.unlink(missing_ok=True)
        if wanted_expected is None:
            wanted_expected = previous_expected
            self.expected = Digest.parse(previous_expected) if previous_expected else None
        if wanted_total is None and previous_total is not None:
            wanted_total = previous_total
            self.total = int(previous_total)
        write_small_file(self.dir / "ref", self.ref)
        if read_small_file(self.dir / "started") is None:
            write_small_file(self.dir / "started", f"{time.time():.6f}")
        write_small_file(self.dir / "expected", wanted_expected or "")
        write_small_file(self.dir / "total", wanted_total or "")
        self._hash = (self.expected.new_hash() if self.expected else Digest(SHA256, "").new_hash())
        self._file = open(data_path, "ab")  # noqa: SIM115 - lives as long as the writer
        self.offset = 0
        if self._file.tell():
            self._rehash(data_path)
            if self.total is not None and self.offset > self.total:
                self.reset()  # longer than the blob can be: not worth keeping

    def _rehash(self, data_path: Path) -> None:
        with open(data_path, "rb") as handle:
            while chunk := handle.read(_REHASH_CHUNK):
                self._hash.update(chunk)
                self.offset += len(chunk)

    @property
    def algorithm(self) -> str:
        return self.expected.algorithm if self.expected else SHA256

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``; refuses to grow past the expected size."""
        self._check_open()
        length = len(data)
        if self.total is not None and self.offset + length > self.total:
            raise SizeMismatch(
                f"ingest {self.ref!r}: received more than the expected {self.total} bytes"
            )
        try:
            self._file.write(data)
        except OSError as exc:
            _raise_os_error("write", self.dir / "data", exc)
        self._hash.update(data)
        self.offset += length
        return length

    def reset(self) -> None:
        """Discard what was written and start again at offset 0."""
        self._check_open()
        self._file.truncate(0)
        self._file.seek(0)
        self._hash = Digest(self.algorithm, "").new_hash()
        self.offset = 0

    def digest(self) -> Digest:
        """Digest of the bytes written so far."""
        return Digest(self.algorithm, self._hash.hexdigest())

    def commit(self, size: int | None = None, expected: str | None = None) -> str:
        """Verify size and digest, then move the data into blobs/. Returns the digest.

        On a digest mismatch the ingest is discarded (its data is known bad).
        """
        self._check_open()
        want_size = size if size is not None else self.total
        want_digest = Digest.parse(expected) if expected else self.expected
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            _raise_os_error("sync", self.dir / "data", exc)
        if want_size is not None and self.offset != want_size:
            raise SizeMismatch(
                f"commit {self.ref!r}: got {self.offset} bytes, expected {want_size}"
            )
        actual = self.digest()
        if want_digest is not None and actual != want_digest:
            self.abort()
            raise DigestMismatch(
                f"commit {self.ref!r}: content digest {actual} does not match expected "
                f"{want_digest}; data discarded"
            )
        target = self.store.path(actual)
        self._file.close()
        if target.exists():
            self._finish()
            return str(actual)
        data_path = self.dir / "data"
        os.chmod(data_path, 0o444)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(data_path, target)
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._finish()
        return str(actual)

    def _finish(self) -> None:
        self._committed = True
        _remove_ingest_dir(self.dir)
        self._release_lock()
        self._closed = True

    def abort(self) -> None:
        """Discard the ingest entirely."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
        except OSError:
            pass  # the data is being thrown away anyway
        finally:
            _remove_ingest_dir(self.dir)
            self._release_lock()

    def close(self) -> None:
        """Release the ingest, keeping its data so a later writer can resume."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()  # flushes; the fd is closed even when the flush fails
        except OSError:
            pass  # unflushed bytes are lost: the next writer resumes from what is on disk
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"ingest {self.ref!r}: writer is closed")

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Writer(ref={self.ref!r}, offset={self.offset}, expected={self.expected})"
