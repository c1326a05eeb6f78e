"""pyrunc's cgroup managers: v1, v2 (unified) and hybrid behind one interface.

Lifecycle, as the runtime uses it::

    manager = new_manager(linux.cgroups_path, container_id)   # linux: spec.model.Linux
    manager.create()                       # mkdir in every hierarchy (cpuset/subtree prepared)
    manager.apply(init_pid)                # join every hierarchy
    manager.set(linux.resources)
    state["cgroups"] = manager.to_state()  # plain dict for state.json
    ...
    manager = from_state(state["cgroups"])  # kill/delete/pause/resume/ps/update/events
    manager.update(resources)               # a spec.model.Resources: the sections present
    manager.freeze(); manager.thaw(); manager.freezer_state()
    manager.pids(); manager.stats(); manager.oom_kill_count(); manager.kill_all(signum)
    manager.destroy()

``new_manager`` detects the layout from /proc/self/mountinfo and resolves cgroupsPath as runc's
cgroupfs driver does (absolute: below each mountpoint; relative or empty (= the container id):
below the runtime's own cgroup). ``root=`` points detection at a private hierarchy or a plain
directory tree. Every failure is a :class:`pyrunc.errors.CgroupError` naming the file and errno.
Controller modules are imported only when a resource needs them; this package imports neither
``re`` nor ``json`` nor the syscall seam (loaded only for v2 device programs).
"""

from __future__ import annotations

from pyrunc.cgroups.manager import Manager, manager_class

TYPE_CHECKING = False
if TYPE_CHECKING:  # the seam imports platform and typing (~15 ms): load it only when needed
    from pyrunc.linux.syscalls import Syscalls

__all__ = ["Manager", "from_state", "new_manager"]


def new_manager(cgroups_path: str | None, container_id: str, *, root: str | None = None,
                sc: Syscalls | None = None) -> Manager:
    """The manager for a new container. ``root`` restricts detection to the cgroup mounts at or
    below that directory (a private hierarchy in tests), or uses it as a plain directory tree."""
    from pyrunc.cgroups.layout import UNIFIED, detect
    from pyrunc.cgroups.paths import hierarchy_root, resolve

    layout = detect(root)
    paths = resolve(layout, cgroups_path, container_id)
    roots = {key: hierarchy_root(layout, key) for key in paths}
    if layout.mode == "v2":
        paths = {UNIFIED: paths[UNIFIED]}
        roots = {UNIFIED: roots[UNIFIED]}
    return manager_class(layout.mode)(paths, roots, None, sc)


def from_state(saved: dict, sc: Syscalls | None = None) -> Manager:
    """Reload a manager from what ``to_state()`` returned."""
    return Manager.from_state(saved, sc)
