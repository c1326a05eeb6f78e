"""Which cgroup hierarchies are mounted where: v1, v2 (unified) or hybrid.

Read from /proc/self/mountinfo; the runtime's own cgroups from /proc/self/cgroup. ``root``
points the detection at another place (a private cgroup2 mount, or a plain directory tree in
unit tests).
"""

from __future__ import annotations

import os

V1 = "v1"
V2 = "v2"
HYBRID = "hybrid"
UNIFIED = ""
"""The key of the cgroup2 hierarchy in path maps (as in runc's state.json)."""

DEFAULT_ROOT = "/sys/fs/cgroup"
_MOUNT_OPTIONS = frozenset(
    ("rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "none", "nsdelegate",
     "memory_recursiveprot", "memory_localevents", "memory_hugetlb_accounting", "favordynmods")
)


class Mount:
    """One mounted hierarchy: where it is mounted and which part of the hierarchy it shows."""

    __slots__ = ("mountpoint", "root", "subsystems")

    def __init__(self, mountpoint: str, root: str, subsystems: tuple[str, ...]) -> None:
        self.mountpoint = mountpoint
        self.root = root
        self.subsystems = subsystems

    def __repr__(self) -> str:
        return f"Mount({self.mountpoint!r}, {self.root!r}, {self.subsystems!r})"


class Layout:
    """The hierarchies a manager works with and the runtime's own cgroup in each."""

    __slots__ = ("mode", "own", "unified", "v1")

    def __init__(self, v1: dict[str, Mount], unified: Mount | None, own: dict[str, str]) -> None:
        self.v1 = v1
        self.unified = unified
        self.own = own
        controllers = [name for name in v1 if not name.startswith("name=")]
        if controllers and unified is not None:
            self.mode = HYBRID
        elif controllers or unified is None:
            self.mode = V1
        else:
            self.mode = V2

    def own_dir(self, key: str) -> str:
        """The directory of the runtime's own cgroup in hierarchy ``key``."""
        mount = self.unified if key == UNIFIED else self.v1[key]
        assert mount is not None
        own = self.own.get(key, "/")
        rel = own
        if mount.root != "/" and (own == mount.root or own.startswith(mount.root + "/")):
            rel = own[len(mount.root):] or "/"
        return os.path.normpath(mount.mountpoint + "/" + rel.lstrip("/"))


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Cgroup mounts as (fstype, mountpoint, root, subsystems), in mount order."""
    found = []
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
        except ValueError:
            continue
        fstype = fields[sep + 1]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        root, mountpoint = _unescape(fields[3]), _unescape(fields[4])
        subsystems: tuple[str, ...] = ()
        if fstype == "cgroup" and len(fields) > sep + 3:
            subsystems = tuple(
                opt for opt in fields[sep + 3].split(",")
                if opt not in _MOUNT_OPTIONS and not opt.startswith("release_agent=")
            )
        found.append((fstype, mountpoint, root, subsystems))
    return found


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup as {subsystem: path}; the cgroup2 entry under the key ``""``."""
    own: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, names, path = parts
        if not names:
            own[UNIFIED] = path
            continue
        for name in names.split(","):
            own[name] = path
    return own


def layout_from(mounts: list[tuple[str, str, str, tuple[str, ...]]], own: dict[str, str],
                root: str | None = None) -> Layout | None:
    """Build a Layout from parsed mounts, keeping only those at or below ``root`` if given."""
    v1: dict[str, Mount] = {}
    unified: Mount | None = None
    for fstype, mountpoint, mroot, subsystems in mounts:
        if root is not None and mountpoint != root and not mountpoint.startswith(root + "/"):
            continue
        if fstype == "cgroup2":
            if unified is None:
                unified = Mount(mountpoint, mroot, ())
            continue
        mount = Mount(mountpoint, mroot, subsystems)
        for name in subsystems:
            v1.setdefault(name, mount)
    if not v1 and unified is None:
        return None
    return Layout(v1, unified, own)


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def _tree_layout(root: str) -> Layout:
    """A layout for a plain directory tree (no cgroup mount), used by unit tests.

    ``root/cgroup.controllers`` makes it a v2 hierarchy; otherwise every subdirectory is a v1
    hierarchy named by its subsystems (``cpu,cpuacct``), and ``root/unified`` a cgroup2 one.
    """
    if os.path.exists(root + "/cgroup.controllers"):
        return Layout({}, Mount(root, "/", ()), {})
    v1: dict[str, Mount] = {}
    unified = None
    for name in sorted(os.listdir(root)):
        path = f"{root}/{name}"
        if not os.path.isdir(path):
            continue
        if name == "unified" and os.path.exists(path + "/cgroup.controllers"):
            unified = Mount(path, "/", ())
            continue
        subsystems = tuple(name.split(","))
        if name == "systemd":
            subsystems = ("name=systemd",)
        mount = Mount(path, "/", subsystems)
        for sub in subsystems:
            v1[sub] = mount
    return Layout(v1, unified, {})


def detect(root: str | None = None) -> Layout:
    """The layout of this process's cgroup hierarchies (optionally only those under ``root``)."""
    from pyrunc.errors import CgroupError

    if root is not None:
        root = os.path.normpath(os.path.abspath(root))
    try:
        mounts = parse_mountinfo(_read("/proc/self/mountinfo"))
        own = parse_proc_cgroup(_read("/proc/self/cgroup"))
    except OSError as err:
        raise CgroupError(f"cgroup: read {err.filename}: {err.strerror}") from None
    layout = layout_from(mounts, own, root)
    if layout is not None:
        return layout
    if root is not None and os.path.isdir(root):
        return _tree_layout(root)
    where = f" under {root}" if root else ""
    raise CgroupError(f"cgroup: detect: no cgroup filesystem mounted{where}")
