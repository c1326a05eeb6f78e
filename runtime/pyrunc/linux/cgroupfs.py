"""The ``cgroup`` mount type: the container's view of /sys/fs/cgroup.

v1/hybrid: a tmpfs with one directory per hierarchy; cgroup v2 (pure): one cgroup2 mount. With a
cgroup namespace the hierarchies are mounted fresh (the kernel roots them at the container's
cgroup); without one, the container's own cgroup directories are bind-mounted, so it never sees
its siblings. Co-mounted controllers get symlinks (cpu -> cpu,cpuacct) as on the host.
"""

from __future__ import annotations

import os

from . import mounts, paths
from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Mount

    from .syscalls import Syscalls


def _own_cgroups() -> dict[str, str]:
    """controller list ("cpu,cpuacct", "" for v2) → this process's cgroup path."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            out[controllers] = path
    return out


def _from_manager(paths: dict[str, str], hierarchies: list[tuple[str, str, str, str]]
                  ) -> dict[str, str]:
    """The manager's per-controller paths (relative to their hierarchy) keyed like
    /proc/self/cgroup ("cpu,cpuacct", "name=systemd", "" for v2)."""
    out = {"": paths.get("", "/")}
    for _point, _root, fstype, opts in hierarchies:
        if fstype != "cgroup":
            continue
        controllers = [o for o in opts.split(",") if o in _V1 or o.startswith("name=")]
        for c in controllers:
            if c in paths:
                out[",".join(controllers)] = paths[c]
                break
    return out


def mount(sc: Syscalls, rootfs: str, m: Mount, flags: int, data: str, cgroupns: bool,
          cgroup_paths: dict[str, str] | None = None) -> None:
    """``cgroupns``: the init has its own cgroup namespace (told by the caller: comparing
    /proc/self/ns/cgroup with pid 1's is not possible where pid 1 cannot be inspected).
    ``cgroup_paths``: the container's cgroups (controller → path in its hierarchy), so the
    init need not be in them yet; else read from /proc/self/cgroup."""
    dest = m.destination
    fresh = cgroupns
    hierarchies = [(point, root, fstype, opts) for point, root, fstype, _, opts
                   in mounts.parse_mountinfo() if fstype in ("cgroup", "cgroup2")
                   and point.startswith("/sys/fs/cgroup")]
    own = _own_cgroups() if cgroup_paths is None else _from_manager(cgroup_paths, hierarchies)
    base = flags & (s.MS_NOSUID | s.MS_NODEV | s.MS_NOEXEC | s.MS_RELATIME)
    v2_only = all(fstype == "cgroup2" for _, _, fstype, _ in hierarchies)
    if v2_only:
        _mount_one(sc, rootfs, dest, "cgroup2", "", own.get("", "/"), "/sys/fs/cgroup",
                   flags, fresh)
        return
    # v1 and hybrid: as runc, a (writable) tmpfs holding the v1 hierarchies; the hybrid
    # cgroup2 mount (/sys/fs/cgroup/unified) is not shown to the container.
    fd = paths.open_in_root(rootfs, dest, "dir")
    try:
        sc.mount("tmpfs", paths.fd_path(fd), "tmpfs", base, "mode=755")
    finally:
        os.close(fd)
    links: list[tuple[str, str]] = []
    for point, _root, fstype, opts in hierarchies:
        name = os.path.relpath(point, "/sys/fs/cgroup")
        if name == ".":
            continue
        if fstype != "cgroup":
            continue
        controllers = [o for o in opts.split(",") if o in _V1 or o.startswith("name=")]
        key = ",".join(controllers)
        _mount_one(sc, rootfs, os.path.join(dest, name), fstype, key, own.get(key, "/"), point,
                   base | (flags & s.MS_RDONLY), fresh)
        if "," in name:
            links.extend((part, name) for part in name.split(","))
    for link, name in links:
        where = os.path.join(paths.resolve_in_root(rootfs, dest), link)
        if not os.path.lexists(where):
            os.symlink(name, where)


_V1 = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
       "net_cls", "net_prio", "perf_event", "rdma", "misc")


def _mount_one(sc: Syscalls, rootfs: str, dest: str, fstype: str, subsys: str, cg_path: str,
               host_point: str, flags: int, fresh: bool) -> None:
    fd = paths.open_in_root(rootfs, dest, "dir")
    try:
        target = paths.fd_path(fd)
        if fresh:
            # Named hierarchies ("name=systemd") get their name as the source, as with runc.
            source = subsys[5:] if subsys.startswith("name=") else "cgroup"
            sc.mount(source, target, fstype, flags & ~s.MS_RDONLY, subsys or None)
        else:
            source = os.path.join(host_point, cg_path.lstrip("/"))
            sc.mount(source, target, None, s.MS_BIND | s.MS_REC)
    finally:
        os.close(fd)
    remount = flags & (s.MS_RDONLY | s.MS_NOSUID | s.MS_NODEV | s.MS_NOEXEC)
    if (remount and not fresh) or flags & s.MS_RDONLY:
        # A bind mount takes none of the requested flags: apply them (ro or not).
        mounts.with_target(rootfs, dest, lambda target: sc.mount(
            None, target, None, s.MS_REMOUNT | s.MS_BIND | remount))
