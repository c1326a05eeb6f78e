"""The cgroup v2 manager: one directory in the unified hierarchy."""

from __future__ import annotations

import errno

from pyrunc.cgroups import fs
from pyrunc.cgroups.devices import Rule
from pyrunc.cgroups.layout import UNIFIED
from pyrunc.cgroups.manager import Manager, empty_stats, naming_field
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources

# (module in pyrunc.cgroups.v2, OCI resources key, controller whose files it writes)
WRITERS = (
    ("cpuset", "cpu", "cpuset"),
    ("cpu", "cpu", "cpu"),
    ("memory", "memory", "memory"),
    ("io", "block_io", "io"),
    ("pids", "pids", "pids"),
    ("hugetlb", "hugepage_limits", "hugetlb"),
    ("rdma", "rdma", "rdma"),
    ("unified", "unified", ""),
)


def writer(module: str):
    """Import a v2 writer module on first use only."""
    # __import__ rather than importlib: importlib costs ~0.5 ms to import.
    return __import__(f"pyrunc.cgroups.v2.{module}", fromlist=("__name__",))


def enable_controllers(parent: str, wanted: list[str] | None = None) -> None:
    """Enable ``wanted`` (default: every available) controller for ``parent``'s children.

    Failures are tolerated one controller at a time (e.g. EBUSY when ``parent`` holds
    processes); a write that later needs the controller reports it then.
    """
    available = (fs.read_optional(parent, "cgroup.controllers") or "").split()
    enabled = (fs.read_optional(parent, "cgroup.subtree_control") or "").split()
    missing = [c for c in (wanted if wanted is not None else available)
               if c in available and c not in enabled]
    if not missing:
        return
    try:
        fs.write(parent, "cgroup.subtree_control", " ".join("+" + c for c in missing))
    except CgroupError:
        for name in missing:
            try:
                fs.write(parent, "cgroup.subtree_control", "+" + name)
            except CgroupError:
                continue


def apply_writer(module: str, controller: str, path: str, resources: Resources) -> None:
    """Run one writer, turning a missing interface file into a 'controller not enabled' error."""
    try:
        writer(module).apply(path, resources)
    except CgroupError as exc:
        if getattr(exc, "errno", None) != errno.ENOENT or not controller:
            raise
        available = (fs.read_optional(path, "cgroup.controllers") or "").split()
        if controller in available:
            raise
        raise CgroupError(f"cgroup: set {controller} limit in {path}: the {controller} "
                          f"controller is not enabled here (available: "
                          f"{' '.join(available) or 'none'})") from None


class V2Manager(Manager):
    mode = "v2"

    @property
    def path(self) -> str:
        return self.paths[UNIFIED]

    def _before_mkdir(self, key: str, parent: str) -> None:
        enable_controllers(parent)

    def _set(self, resources: Resources, rules: list[Rule] | None) -> None:
        network = resources.network
        if network is not None and (network.class_id or network.priorities):
            raise CgroupError("cgroup: linux.resources.network: net_cls/net_prio do not exist "
                              "on cgroup v2")
        for module, key, controller in WRITERS:
            if getattr(resources, key) and writer(module).wants(resources):
                try:
                    apply_writer(module, controller, self.path, resources)
                except CgroupError as exc:
                    raise naming_field(key, exc) from None
        if rules is not None:
            try:
                writer("devices").apply_rules(self.path, rules, self.sc)
            except CgroupError as exc:
                raise naming_field("devices", exc) from None

    # -- freezer -----------------------------------------------------------------------------
    def freeze(self) -> None:
        writer("freezer").freeze(self.path)

    def thaw(self) -> None:
        writer("freezer").thaw(self.path)

    def freezer_state(self) -> str:
        return writer("freezer").state(self.path)

    def can_freeze(self) -> bool:
        return fs.exists(self.path, "cgroup.freeze")

    # -- processes and reports ---------------------------------------------------------------
    def procs_dir(self) -> str:
        return self.path

    def kill_file(self) -> str | None:
        name = f"{self.path}/cgroup.kill"
        return name if fs.exists(self.path, "cgroup.kill") else None

    def stats(self) -> dict:
        out = empty_stats()
        # hugetlb has no one file to probe (its files are per huge page size of this kernel):
        # its reader looks for each size's file itself.
        for module, probe in (("cpu", "cpu.stat"), ("cpuset", "cpuset.cpus.effective"),
                              ("memory", "memory.current"), ("pids", "pids.current"),
                              ("io", "io.stat"), ("hugetlb", None)):
            if probe is None or fs.exists(self.path, probe):
                writer(module).stats(self.path, out)
        return out

    def oom_kill_count(self) -> int:
        return fs.read_keyed(self.path, "memory.events").get("oom_kill", 0)
