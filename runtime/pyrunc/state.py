"""Container state on disk: ``<root>/<id>/state.json`` plus the exec fifo, and its locking.

Layout of one container directory (mode 0700):
  state.json   our record (atomic writes; decoded once, strictly, into ``ContainerRecord``)
  cgroup.json  a copy of the record's cgroup, written with it: if state.json is damaged,
               ``delete --force`` still finds the container's processes through it
  exec.fifo    exists from create until start: the init blocks on it (see linux/init.py)

Every verb that acts holds an exclusive flock on the directory and reads the record under it, so
concurrent ``create``/``start``/``kill``/``delete`` calls on one id serialise; ``create`` holds it
from claiming the id (mkdir, atomic) until the container is recorded as created.
A record is written as soon as the directory exists ("creating", with the creator's pid) and again
once the init exists, so a create killed with -9 at any point leaves something ``delete --force``
understands. A write killed half-way leaves a ``state.json.tmp<pid>`` that nothing reads and
``delete`` removes with the directory.
"""

from __future__ import annotations

import fcntl
import os
import time

from pyrunc import jsonio
from pyrunc.errors import ContainerExists, ContainerNotFound, KernelError, StateDamaged, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_ROOT = "/run/pyrunc"
STATE_FILE = "state.json"
CGROUP_FILE = "cgroup.json"
EXEC_FIFO = "exec.fifo"
PID_MAX = 4194304  # PID_MAX_LIMIT on 64-bit Linux (pids stay below it)
_CLAIM_TRIES = 8

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

class ContainerRecord:
    """What state.json holds, with every field's type and range checked once, on reading.

    ``status`` is "creating" (``creator`` is the pyrunc creating it: pid and start time) until
    the init is ready, then "created"; everything later is derived (see container.py). ``pid``
    is 0 until the init exists. ``process``, ``seccomp``, ``resources`` and the ``hooks`` lists
    are the config's own JSON, kept for exec, update and the hooks; ``cgroup`` is the cgroup
    manager's ``to_state()``.
    """

    __slots__ = ("annotations", "bundle", "cgroup", "created", "creator", "hooks", "id",
                 "namespaces", "oci_version", "pid", "pid_start", "process", "resources",
                 "rootfs", "seccomp", "status")

    def __init__(self, cid: str, bundle: str = "", rootfs: str = "", created: str = "") -> None:
        self.id = cid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.status = "creating"
        self.creator: tuple[int, int] | None = None
        self.pid = 0
        self.pid_start: int | None = None
        self.annotations: dict[str, str] = {}
        self.hooks: dict[str, list[dict[str, Any]]] = {}
        self.namespaces: dict[str, str | None] = {}
        self.oci_version: str | None = None
        self.process: dict[str, Any] | None = None
        self.seccomp: dict[str, Any] | None = None
        self.resources: dict[str, Any] = {}
        self.cgroup: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "bundle": self.bundle, "rootfs": self.rootfs,
            "created": self.created, "status": self.status,
            "annotations": self.annotations, "hooks": self.hooks,
            "namespaces": self.namespaces, "ociVersion": self.oci_version,
            "process": self.process, "seccomp": self.seccomp, "resources": self.resources,
        }
        if self.creator is not None:
            out["creator"] = list(self.creator)
        if self.pid:
            out["pid"] = self.pid
            out["pid_start"] = self.pid_start
        if self.cgroup is not None:
            out["cgroup"] = self.cgroup
        return out

    @classmethod
    def decode(cls, doc: object, cid: str) -> ContainerRecord:
        """The record in ``doc`` (parsed JSON); ValueError names the first bad field."""
        if not isinstance(doc, dict):
            raise ValueError(f"expected an object, got {_kind(doc)}")
        rec = cls(_get(doc, "id", str, True), _get(doc, "bundle", str, True),
                  _get(doc, "rootfs", str, True), _get(doc, "created", str, True))
        if rec.id != cid:
            raise ValueError(f"id: {rec.id!r} is not the directory's {cid!r}")
        rec.status = _get(doc, "status", str, True)
        if rec.status not in ("creating", "created"):
            raise ValueError(f"status: {rec.status!r} is neither 'creating' nor 'created'")
        creator = _get(doc, "creator", list)
        if creator is not None:
            if len(creator) != 2:
                raise ValueError("creator: expected [pid, start time]")
            rec.creator = (_ranged("creator[0]", creator[0], 1, PID_MAX),
                           _ranged("creator[1]", creator[1], 0, None))
        pid = _get(doc, "pid", int)
        rec.pid = 0 if pid is None else _ranged("pid", pid, 1, PID_MAX)
        start = _get(doc, "pid_start", int)
        rec.pid_start = None if start is None else _ranged("pid_start", start, 0, None)
        if rec.status == "created" and not rec.pid:
            raise ValueError("pid: missing for a created container")
        rec.annotations = _str_map(doc, "annotations", False)
        rec.namespaces = _str_map(doc, "namespaces", True)
        hooks = _get(doc, "hooks", dict) or {}
        for kind, entries in hooks.items():
            if kind not in ("poststart", "poststop") or not isinstance(entries, list) or not all(
                    isinstance(h, dict) and isinstance(h.get("path"), str) for h in entries):
                raise ValueError(f"hooks.{kind}: expected a list of hooks with a path")
        rec.hooks = hooks
        rec.oci_version = _get(doc, "ociVersion", str)
        rec.process = _get(doc, "process", dict)
        rec.seccomp = _get(doc, "seccomp", dict)
        rec.resources = _get(doc, "resources", dict) or {}
        saved = doc.get("cgroup")
        rec.cgroup = None if saved is None else check_cgroup(saved)
        return rec


def check_cgroup(saved: object) -> dict[str, Any]:
    """A cgroup manager's ``to_state()`` as read back: mode, paths and roots (absolute), the
    directories it created. Paths are not otherwise judged: one the system cannot name (a NUL,
    a lone surrogate) cannot exist, and clean-up treats it as gone."""
    if not isinstance(saved, dict):
        raise ValueError(f"cgroup: expected an object, got {_kind(saved)}")
    if saved.get("mode") not in ("v1", "v2", "hybrid"):
        raise ValueError(f"cgroup.mode: {saved.get('mode')!r} is not v1, v2 or hybrid")
    for key in ("paths", "roots"):
        value = saved.get(key)
        if not isinstance(value, dict) or not value or not all(
                isinstance(k, str) and isinstance(v, str) and v.startswith("/")
                for k, v in value.items()):
            raise ValueError(f"cgroup.{key}: expected a map to absolute paths")
    created = saved.get("created", [])
    if not isinstance(created, list) or not all(isinstance(p, str) for p in created):
        raise ValueError("cgroup.created: expected a list of paths")
    return saved


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _get(doc: dict[str, Any], key: str, kind: type, required: bool = False) -> Any:
    """doc[key] if it is a ``kind`` (bool is no int); a missing or null optional one is None."""
    value = doc.get(key)
    if value is None:
        if required:
            raise ValueError(f"{key}: missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key}: expected {kind.__name__}, got {_kind(value)}")
    return value


def _ranged(what: str, value: object, low: int, high: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (
            high is not None and value > high):
        raise ValueError(f"{what}: {value!r} is not an integer in {low}..{high or ''}")
    return value


def _str_map(doc: dict[str, Any], key: str, null_values: bool) -> dict[str, Any]:
    value = _get(doc, key, dict) or {}
    for k, v in value.items():
        if not isinstance(k, str) or not (isinstance(v, str) or (null_values and v is None)):
            raise ValueError(f"{key}.{k}: expected a string, got {_kind(v)}")
    return value


class ContainerDir:
    """One container's state directory under the runtime root."""

    def __init__(self, root: str, cid: str) -> None:
        validate_id(cid)
        self.root = root
        self.id = cid
        self.path = os.path.join(root, cid)
        self.state_path = os.path.join(self.path, STATE_FILE)
        self.cgroup_path = os.path.join(self.path, CGROUP_FILE)
        self.fifo_path = os.path.join(self.path, EXEC_FIFO)
        self._lock_fd: int | None = None
        self._cgroup_written: dict[str, Any] | None = None

    # -- claiming and locking ------------------------------------------------------------------
    def claim(self) -> None:
        """Create the directory for a new container and lock it; fails if the id is taken."""
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        for _ in range(_CLAIM_TRIES):
            try:
                os.mkdir(self.path, 0o700)
            except FileExistsError:
                raise ContainerExists(f"container with id exists: {self.id}") from None
            try:
                self.lock()
                return
            except ContainerNotFound:
                # A `delete` locked the bare directory before us, took it for the husk of a
                # create killed before its first record, and removed it: as if it had run
                # before this create. Claim again.
                continue
        raise KernelError(f"create container {self.id}: its state directory was removed "
                          f"{_CLAIM_TRIES} times while being claimed")

    def lock(self) -> None:
        """Take the directory's flock; ContainerNotFound if it is gone, or was removed (and
        perhaps claimed again) while we waited for the lock."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerNotFound("container does not exist") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.stat(self.path), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            raise ContainerNotFound("container does not exist")
        self._lock_fd = fd

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
    def read(self) -> ContainerRecord:
        """The record; StateDamaged (naming the container, the file and the cause) if it
        cannot be read or decoded, ContainerNotFound if the directory is gone."""
        try:
            with open(self.state_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            if not self.exists():
                raise ContainerNotFound("container does not exist") from None
            if os.path.lexists(self.cgroup_path):  # cgroup.json is written after state.json
                raise self.damaged("the file is missing") from None
            return ContainerRecord(self.id)  # claimed, killed before the first record: a husk
        except OSError as err:
            raise self.damaged(err.strerror or str(err)) from None
        try:
            return ContainerRecord.decode(jsonio.loads(data), self.id)
        except (ValueError, RecursionError) as err:  # RecursionError: absurdly deep nesting
            raise self.damaged(str(err) or type(err).__name__) from None

    def damaged(self, cause: str) -> StateDamaged:
        return StateDamaged(f"container {self.id}: damaged state {self.state_path}: {cause}")

    def write(self, record: ContainerRecord) -> None:
        """Write the record, and cgroup.json when the record's cgroup changed (after
        state.json, so a lone cgroup.json means state.json was lost)."""
        jsonio.write_atomic(self.state_path, record.to_json())
        if record.cgroup != self._cgroup_written:
            if record.cgroup is None:
                try:
                    os.unlink(self.cgroup_path)
                except FileNotFoundError:
                    pass
            else:
                jsonio.write_atomic(self.cgroup_path, record.cgroup)
            self._cgroup_written = None if record.cgroup is None else dict(record.cgroup)

    def read_cgroup(self) -> dict[str, Any] | None:
        """The copy of the record's cgroup, or None if there is none or it is unreadable."""
        try:
            return check_cgroup(jsonio.load_file(self.cgroup_path))
        except (OSError, ValueError, RecursionError):
            return None

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
