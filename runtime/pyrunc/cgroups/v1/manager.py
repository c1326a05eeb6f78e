"""The cgroup v1 manager: one directory per mounted controller hierarchy."""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.cgroups.devices import Rule
from pyrunc.cgroups.manager import Manager, empty_stats, naming_field
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources

# (subsystem, module in pyrunc.cgroups.v1, OCI resources key it reads), in runc's order.
CONTROLLERS = (
    ("cpuset", "cpuset", "cpu"),
    ("cpu", "cpu", "cpu"),
    ("memory", "memory", "memory"),
    ("blkio", "blkio", "block_io"),
    ("pids", "pids", "pids"),
    ("hugetlb", "hugetlb", "hugepage_limits"),
    ("net_cls", "net_cls", "network"),
    ("net_prio", "net_prio", "network"),
    ("rdma", "rdma", "rdma"),
)


def controller(module: str):
    """Import a v1 controller module on first use only."""
    # __import__ rather than importlib: importlib costs ~0.5 ms to import.
    return __import__(f"pyrunc.cgroups.v1.{module}", fromlist=("__name__",))


class V1Manager(Manager):
    mode = "v1"

    def _after_mkdir(self, key: str, parent: str, child: str) -> None:
        if self._is_cpuset_dir(child):
            controller("cpuset").inherit_from_parent(parent, child)

    def _is_cpuset_dir(self, child: str) -> bool:
        cpuset = self.paths.get("cpuset")
        return cpuset is not None and (cpuset == child or cpuset.startswith(child + "/"))

    def _validate(self, resources: Resources) -> None:
        if resources.unified:
            raise CgroupError("cgroup: linux.resources.unified: cannot use unified on cgroup v1")

    def _set(self, resources: Resources, rules: list[Rule] | None) -> None:
        self._validate(resources)
        for subsystem, module, key in CONTROLLERS:
            if not getattr(resources, key):
                continue
            mod = controller(module)
            if not mod.wants(resources):
                continue
            path = self.paths.get(subsystem)
            try:
                if path is None:
                    self._set_unmounted(subsystem, resources)
                else:
                    mod.apply(path, resources)
            except CgroupError as exc:
                raise naming_field(key, exc) from None
        if rules is not None:
            try:
                self._set_devices(rules)
            except CgroupError as exc:
                raise naming_field("devices", exc) from None

    def _set_unmounted(self, subsystem: str, resources: Resources) -> None:
        raise CgroupError(f"cgroup: set {subsystem} limit: the {subsystem} controller is not "
                          "mounted (container could not join or create cgroup)")

    def _set_devices(self, rules: list[Rule]) -> None:
        path = self.paths.get("devices")
        if path is None:
            raise CgroupError("cgroup: set devices limit: the devices controller is not mounted")
        controller("devices").apply_rules(path, rules)

    # -- freezer -----------------------------------------------------------------------------
    def _freezer(self) -> str:
        path = self.paths.get("freezer")
        if path is None:
            raise CgroupError("cgroup: freeze: the freezer controller is not mounted")
        return path

    def can_freeze(self) -> bool:
        return "freezer" in self.paths

    def freeze(self) -> None:
        controller("freezer").freeze(self._freezer())

    def thaw(self) -> None:
        controller("freezer").thaw(self._freezer())

    def freezer_state(self) -> str:
        if "freezer" not in self.paths:
            return "THAWED"
        return controller("freezer").state(self._freezer())

    # -- reporting ---------------------------------------------------------------------------
    def procs_dir(self) -> str:
        for key in ("pids", "freezer", "memory", "cpu", "devices"):
            if key in self.paths:
                return self.paths[key]
        return self.dirs()[0]

    def stats(self) -> dict:
        out = empty_stats()
        for subsystem, module in (("cpuacct", "cpuacct"), ("cpu", "cpu"), ("cpuset", "cpuset"),
                                  ("memory", "memory"), ("pids", "pids"), ("blkio", "blkio"),
                                  ("hugetlb", "hugetlb")):
            path = self.paths.get(subsystem)
            if path is not None:
                controller(module).stats(path, out)
        return out

    def oom_kill_count(self) -> int:
        path = self.paths.get("memory")
        if path is None:
            return 0
        return fs.read_keyed(path, "memory.oom_control").get("oom_kill", 0)
