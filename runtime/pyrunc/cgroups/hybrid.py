"""The hybrid manager: v1 controller hierarchies plus the cgroup2 hierarchy (key ``""``).

Everything runs through v1 except what only the cgroup2 side has: hugetlb when it is bound to
cgroup2 (this machine), cgroup.kill for SIGKILL, and cgroup.freeze when no v1 freezer is mounted.
``unified`` key/values are rejected as runc does in this layout.
"""

from __future__ import annotations

import os

from pyrunc.cgroups import fs
from pyrunc.cgroups.layout import UNIFIED
from pyrunc.cgroups.v1.manager import V1Manager
from pyrunc.cgroups.v2.manager import apply_writer, enable_controllers, writer
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


class HybridManager(V1Manager):
    mode = "hybrid"

    @property
    def unified_path(self) -> str | None:
        return self.paths.get(UNIFIED)

    def _set_unmounted(self, subsystem: str, resources: Resources) -> None:
        unified = self.unified_path
        if subsystem != "hugetlb" or unified is None:
            super()._set_unmounted(subsystem, resources)
            return
        self._enable_in_ancestors("hugetlb")
        apply_writer("hugetlb", "hugetlb", unified, resources)

    def _enable_in_ancestors(self, controller: str) -> None:
        """Enable ``controller`` from the cgroup2 root down to the container's parent."""
        unified = self.unified_path
        assert unified is not None
        root = self.roots[UNIFIED].rstrip("/")
        available = (fs.read_optional(root, "cgroup.controllers") or "").split()
        if controller not in available:
            raise CgroupError(f"cgroup: set {controller} limit: the {controller} controller is "
                              "mounted neither on cgroup v1 nor on cgroup v2")
        levels, current = [root], root
        for part in os.path.dirname(unified)[len(root):].split("/"):
            if part:
                current = f"{current}/{part}"
                levels.append(current)
        for level in levels:
            enable_controllers(level, [controller])

    def can_freeze(self) -> bool:
        return "freezer" in self.paths or self.unified_path is not None

    def freeze(self) -> None:
        if "freezer" in self.paths or self.unified_path is None:
            super().freeze()
        else:
            writer("freezer").freeze(self.unified_path)

    def thaw(self) -> None:
        if "freezer" in self.paths or self.unified_path is None:
            super().thaw()
        else:
            writer("freezer").thaw(self.unified_path)

    def freezer_state(self) -> str:
        if "freezer" in self.paths or self.unified_path is None:
            return super().freezer_state()
        return writer("freezer").state(self.unified_path)

    def kill_file(self) -> str | None:
        unified = self.unified_path
        if unified is not None and fs.exists(unified, "cgroup.kill"):
            return f"{unified}/cgroup.kill"
        return None

    def stats(self) -> dict:
        out = super().stats()
        unified = self.unified_path
        if "hugetlb" not in self.paths and unified is not None:
            writer("hugetlb").stats(unified, out)
        return out
