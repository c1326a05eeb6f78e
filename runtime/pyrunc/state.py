"""Container state on disk: ``<root>/<id>/state.json`` plus the exec fifo, and its locking.

Layout of one container directory (mode 0700):
  state.json  our record (atomic writes; see ``ContainerRecord``)
  exec.fifo   exists from create until start: the init blocks on it (see linux/init.py)

Every mutating verb holds an exclusive flock on the directory for its whole run, so concurrent
``start``/``kill``/``delete`` calls on one id serialise. ``create`` claims an id with mkdir
(atomic).
A record is written as soon as the directory exists ("creating", with the creator's pid) and again
once the init exists, so a create killed with -9 at any point leaves something ``delete --force``
understands.
"""

from __future__ import annotations

import fcntl
import os
import time

from pyrunc import jsonio
from pyrunc.errors import ContainerExists, ContainerNotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_ROOT = "/run/pyrunc"
STATE_FILE = "state.json"
EXEC_FIFO = "exec.fifo"

_ID_EXTRA = set("_+-.")


def validate_id(cid: str) -> None:
    """runc's rule: letters, digits, ``_ + - .``, not ``.``/``..``, no slashes."""
    if not cid or cid in (".", "..") or not all((c.isalnum() and c.isascii()) or c in _ID_EXTRA
                                               for c in cid):
        raise UsageError(f"invalid container id format: {cid!r}")


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if the process is gone
    or a zombie (an exited init not yet reaped by the shim counts as stopped, as in runc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


def now_rfc3339() -> str:
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


class ContainerDir:
    """One container's state directory under the runtime root."""

    def __init__(self, root: str, cid: str) -> None:
        validate_id(cid)
        self.root = root
        self.id = cid
        self.path = os.path.join(root, cid)
        self.state_path = os.path.join(self.path, STATE_FILE)
        self.fifo_path = os.path.join(self.path, EXEC_FIFO)
        self._lock_fd: int | None = None

    # -- claiming and locking ------------------------------------------------------------------
    def claim(self) -> None:
        """Create the directory for a new container; fails if the id is taken."""
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        try:
            os.mkdir(self.path, 0o700)
        except FileExistsError:
            raise ContainerExists(f"container with id exists: {self.id}") from None
        self.lock()

    def lock(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerNotFound("container does not exist") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd
        if not os.path.isdir(self.path):  # deleted while we waited for the lock
            self.unlock()
            raise ContainerNotFound("container does not exist")

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def lock_fds(self) -> list[int]:
        """Fds a forked child must close: a flock is shared with every copy of its fd."""
        return [] if self._lock_fd is None else [self._lock_fd]

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    # -- the record ----------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        try:
            record = jsonio.load_file(self.state_path)
            return record if isinstance(record, dict) else {}  # damaged: a husk delete removes
        except FileNotFoundError:
            if not self.exists():
                raise ContainerNotFound("container does not exist") from None
            return {}  # claimed but killed before the first record: a stopped husk
        except ValueError:
            return {}  # cannot happen with atomic writes; treat like a husk so delete works

    def write(self, record: dict[str, Any]) -> None:
        jsonio.write_atomic(self.state_path, record)

    def remove(self) -> None:
        rmtree(self.path)
        self.unlock()


def rmtree(path: str) -> None:
    """Remove a directory tree without following symlinks (shutil costs ~13 ms to import)."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        os.unlink(path)
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            rmtree(entry.path)
        else:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.isdir(os.path.join(root, n)))
