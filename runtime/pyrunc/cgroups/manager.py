"""The manager interface shared by the v1, v2 and hybrid implementations.

A manager owns one container's cgroup directories (one per mounted hierarchy, keyed by
subsystem name, ``""`` for cgroup2), creates them, moves processes in, writes OCI
``linux.resources``, freezes, reports and removes them. Its state (``to_state``) is a plain dict
saved in state.json so later verbs reload it with :func:`from_state` without re-deriving paths.
"""

from __future__ import annotations

import errno
import os

from pyrunc.cgroup_record import remove_created_parents
from pyrunc.cgroups import fs
from pyrunc.cgroups.devices import Rule, container_rules
from pyrunc.cgroups.layout import UNIFIED
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:  # the seam imports platform and typing (~15 ms): load it only when needed
    from pyrunc.linux.syscalls import Syscalls
    from pyrunc.spec.model import Resources

SIGKILL = 9


# The member of linux.resources each Resources attribute decodes: a failed write names it.
RESOURCE_FIELDS = {"cpu": "cpu", "memory": "memory", "block_io": "blockIO", "pids": "pids",
                   "hugepage_limits": "hugepageLimits", "network": "network", "rdma": "rdma",
                   "unified": "unified", "devices": "devices"}


def naming_field(key: str, exc: CgroupError) -> CgroupError:
    """``exc`` naming the config member whose write failed (``cgroup: linux.resources.memory:
    write .../memory.limit_in_bytes '1': Device or resource busy``); errno is kept."""
    field = f"linux.resources.{RESOURCE_FIELDS.get(key, key)}"
    text = str(exc)
    if field in text:
        return exc
    named = CgroupError(f"cgroup: {field}: {text.removeprefix('cgroup: ')}")
    named.errno = exc.errno
    return named


class Manager:
    """One container's cgroups. Subclasses implement the hierarchy-specific parts."""

    mode = ""

    def __init__(self, paths: dict[str, str], roots: dict[str, str],
                 created: list[str] | None = None, sc: Syscalls | None = None) -> None:
        for key, path in paths.items():
            root = roots[key]
            if not path.startswith(root.rstrip("/") + "/"):
                raise CgroupError(f"cgroup: {path}: not below the hierarchy root {root}")
        self.paths = paths
        self.roots = roots
        self.created = list(created or ())
        self.sc = sc

    # -- persistence -------------------------------------------------------------------------
    def to_state(self) -> dict:
        """What state.json keeps: mode, per-hierarchy paths and roots, directories we made."""
        return {"mode": self.mode, "paths": dict(self.paths), "roots": dict(self.roots),
                "created": list(self.created)}

    @staticmethod
    def from_state(saved: dict, sc: Syscalls | None = None) -> Manager:
        """Rebuild the manager saved by :meth:`to_state`."""
        try:
            paths, roots = dict(saved["paths"]), dict(saved["roots"])
            created = list(saved.get("created") or ())
        except (KeyError, TypeError, ValueError) as exc:
            raise CgroupError(f"cgroup: load state: malformed cgroup state {saved!r}") from exc
        return manager_class(saved.get("mode", ""))(paths, roots, created, sc)

    # -- helpers -----------------------------------------------------------------------------
    def dirs(self) -> list[str]:
        """Every distinct directory (co-mounted v1 controllers share one)."""
        seen: list[str] = []
        for path in self.paths.values():
            if path not in seen:
                seen.append(path)
        return seen

    def _keys_by_dir(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, path in self.paths.items():
            out.setdefault(path, key)
        return out

    def exists(self) -> bool:
        return any(os.path.isdir(path) for path in self.dirs())

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self) -> None:
        """Create every hierarchy's directory, parents included."""
        for path, key in self._keys_by_dir().items():
            for attempt in range(5):
                try:
                    self._create_one(key, path)
                    break
                except CgroupError as exc:
                    # Another container's destroy removed a shared parent meanwhile: redo.
                    if getattr(exc, "errno", None) != errno.ENOENT or attempt == 4:
                        raise

    def _create_one(self, key: str, path: str) -> None:
        root = self.roots[key].rstrip("/")
        current = root
        for part in path[len(root) + 1:].split("/"):
            parent, current = current, f"{current}/{part}"
            self._before_mkdir(key, parent)
            if fs.mkdir(current):
                self.created.append(current)
            self._after_mkdir(key, parent, current)

    def _before_mkdir(self, key: str, parent: str) -> None:
        """Hook: prepare ``parent`` before a child is created (v2 subtree_control)."""

    def _after_mkdir(self, key: str, parent: str, child: str) -> None:
        """Hook: initialise a directory (v1 cpuset cpus/mems)."""

    def apply(self, pid: int, dirs: list[str] | None = None) -> None:
        """Move process ``pid`` (and its threads) into every hierarchy's directory (or only
        into ``dirs``)."""
        for path in self.dirs() if dirs is None else dirs:
            fs.write(path, "cgroup.procs", pid)

    def self_joinable(self) -> tuple[list[str], list[str]]:
        """Split the directories for a fast join: (v1 directories a single-threaded process can
        join by itself, writing "0" to ``tasks``, directories someone must write its pid to).
        A thread moving itself skips the kernel's global threadgroup lock, whose RCU sync
        costs 8-16 ms per create here; cgroup v2 has no such path (cgroup.threads is for
        threaded subtrees only), so create forks the init straight into the v2 directory
        (clone3 CLONE_INTO_CGROUP, pyrunc.linux.init._fork_init)."""
        v1 = [p for k, p in self.paths.items() if k != UNIFIED]
        own = [p for p in self.dirs() if p in v1]
        rest = [p for p in self.dirs() if p not in own]
        return own, rest

    def set(self, resources: Resources | None, device_paths: tuple[str, ...] = ()) -> None:
        """Write OCI ``linux.resources`` at create time; device rules are always applied
        (spec rules + runc's default devices, less those of `device_paths`: the paths of the
        spec's ``linux.devices``)."""
        if resources is None:
            from pyrunc.spec.model import Resources

            resources = Resources()
        rules = container_rules(resources.devices, device_paths=device_paths)
        self._set(resources, rules)

    def update(self, resources: Resources) -> None:
        """Write the sections present in ``resources`` (``pyrunc update``); device rules only
        when ``devices`` is given."""
        rules = None
        if resources.devices is not None:
            rules = container_rules(resources.devices)
        self._set(resources, rules)

    def _set(self, resources: Resources, rules: list[Rule] | None) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        """Remove the container's directories bottom-up (retrying EBUSY), then the parents this
        manager created if they are empty; missing directories are fine; roots are never
        touched."""
        roots = {root.rstrip("/") for root in self.roots.values()}
        # One directory that cannot go (or a create that failed half-way, its leaf never made)
        # must not keep the others, and the parents made for them, from being removed.
        first: CgroupError | None = None
        for path in self.dirs():
            if path.rstrip("/") not in roots:
                try:
                    fs.rmdir_tree(path)
                except CgroupError as exc:
                    first = first or exc
        try:
            remove_created_parents(self.created, set(self.dirs()), roots)
        except OSError as err:
            first = first or fs.cgroup_error("rmdir", str(err.filename), err)
        if first is not None:
            raise first
        self._after_destroy()

    def _after_destroy(self) -> None:
        """Hook: release resources kept outside the filesystem."""

    # -- freezer -----------------------------------------------------------------------------
    def freeze(self) -> None:
        raise NotImplementedError

    def thaw(self) -> None:
        raise NotImplementedError

    def freezer_state(self) -> str:
        """``FROZEN``, ``FREEZING`` or ``THAWED``."""
        raise NotImplementedError

    def can_freeze(self) -> bool:
        return True

    # -- processes ---------------------------------------------------------------------------
    def procs_dir(self) -> str:
        """The directory whose subtree lists the container's processes."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        """Host pids of every process in the container's cgroup and its children."""
        found: set[int] = set()
        for path in fs.walk_dirs(self.procs_dir()):
            try:
                found.update(fs.read_pids(path))
            except CgroupError as exc:
                if getattr(exc, "errno", None) != errno.ENOENT:
                    raise
        return sorted(found)

    def kill_file(self) -> str | None:
        """A ``cgroup.kill`` file that kills the whole subtree, if the kernel has one."""
        return None

    def kill_all(self, signal: int) -> None:
        """Send ``signal`` to every process. SIGKILL goes through cgroup.kill when present;
        otherwise the cgroup is frozen while each pid is signalled until no new pid appears,
        so a process forking meanwhile cannot escape."""
        kill_file = self.kill_file() if signal == SIGKILL else None
        was_frozen = self.can_freeze() and self.freezer_state() != "THAWED"
        if kill_file is not None:
            fs.write(os.path.dirname(kill_file), "cgroup.kill", "1")
            if was_frozen:
                self.thaw()  # a v1-frozen task only dies once thawed
            return
        frozen = False
        if self.can_freeze():
            try:
                self.freeze()
                frozen = True
            except CgroupError:
                frozen = False
        try:
            signalled: set[int] = set()
            while True:
                pending = [pid for pid in self.pids() if pid not in signalled]
                if not pending:
                    break
                for pid in pending:
                    try:
                        os.kill(pid, signal)
                    except ProcessLookupError:
                        pass
                    signalled.add(pid)
                if not frozen:
                    break
        finally:
            # A paused container stays paused unless it is being killed.
            if frozen and (signal == SIGKILL or not was_frozen):
                self.thaw()

    # -- reporting ---------------------------------------------------------------------------
    def stats(self) -> dict:
        """The ``data`` object of ``runc events --stats``."""
        raise NotImplementedError

    def oom_kill_count(self) -> int:
        raise NotImplementedError


def manager_class(mode: str) -> type[Manager]:
    """The Manager implementation for a layout mode (``v1``, ``v2``, ``hybrid``)."""
    if mode == "v2":
        from pyrunc.cgroups.v2.manager import V2Manager

        return V2Manager
    if mode == "hybrid":
        from pyrunc.cgroups.hybrid import HybridManager

        return HybridManager
    if mode == "v1":
        from pyrunc.cgroups.v1.manager import V1Manager

        return V1Manager
    raise CgroupError(f"cgroup: load state: unknown cgroup mode {mode!r}")


def empty_stats() -> dict:
    """The runc stats object with every section present."""
    return {"cpu": {"usage": {"kernel": 0, "user": 0}, "throttling": {}}, "cpuset": {},
            "memory": {}, "pids": {}, "blkio": {}, "hugetlb": {}, "intel_rdt": {},
            "network_interfaces": None}
