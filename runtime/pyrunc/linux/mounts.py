"""Making the mounts listed in config.json inside the container's rootfs."""

from __future__ import annotations

import os
import stat

from pyrunc.errors import ConfigError, KernelError

from . import mountopts, paths
from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pyrunc.spec.model import Mount

    from .syscalls import Syscalls

# Where a mount must be a real directory (mounting proc/sysfs over a symlink let containers
# write host files: CVE-2019-19921-style attacks).
_DIRECTORY_ONLY = ("proc", "sysfs")


def _fail(op: str, m: Mount, err: OSError, index: int) -> KernelError:
    return KernelError(f"mounts[{index}]: {op} {m.source or m.type} on {m.destination}"
                       f" ({m.type or 'bind'}): {err.strerror or err}")


def mount_entry(sc: Syscalls, rootfs: str, bundle: str, m: Mount, cgroupns: bool = False,
                cgroup_paths: dict[str, str] | None = None, index: int = 0) -> None:
    """Mount one config.json ``mounts`` entry (``mounts[index]``) under ``rootfs`` (before
    pivot_root)."""
    dest = m.destination
    kind = m.type or ""
    parsed = mountopts.parse_all(m.options)
    flags, propagation, data = parsed.flags, parsed.propagation, parsed.data
    bind = m.is_bind
    if kind == "cgroup" and not bind:
        from . import cgroupfs

        cgroupfs.mount(sc, rootfs, m, flags, data, cgroupns, cgroup_paths)
        return
    source = m.source or kind
    if bind and not os.path.isabs(source):
        source = os.path.join(bundle, source)
    if bind:
        try:
            src_is_dir = stat.S_ISDIR(os.stat(source).st_mode)
        except OSError as err:
            raise KernelError(f"mounts[{index}]: bind mount {source} on {dest}: "
                              f"{err.strerror}: {source}") from None
        make = "dir" if src_is_dir else "file"
    else:
        make = "dir"
    if kind in _DIRECTORY_ONLY:
        fd = open_directory_only(rootfs, dest, kind, index)
    else:
        if bind or kind not in _PROC_UNCHECKED:
            check_proc_destination(rootfs, dest, source, index)
        fd = paths.open_in_root(rootfs, dest, make)
    try:
        target = paths.fd_path(fd)
        if bind:
            sc.mount(source, target, None, flags & (s.MS_BIND | s.MS_REC) | s.MS_BIND)
        else:
            sc.mount(source, target, kind, flags & ~s.MS_REMOUNT, data or None)
    except OSError as err:
        raise _fail("mount", m, err, index) from None
    finally:
        os.close(fd)
    extra = flags & ~(s.MS_BIND | s.MS_REC | s.MS_REMOUNT) if bind else 0
    if extra or propagation or parsed.recursive:
        # The O_PATH fd above still points at the directory *under* the new mount: re-open
        # the destination to reach the mount itself.
        with_target(rootfs, dest,
                    lambda target: _finish_mount(sc, target, extra, parsed, m, index))


# runc 1.1.5's checkProcMount: over /proc only a proc filesystem; inside /proc only the files
# lxcfs emulates. A bind over /proc/sys or /proc/self/attr would undo the kernel's and the LSM's
# protections (CVE-2019-16884). tmpfs and mqueue mounts are not checked (runc does not either).
_PROC_UNCHECKED = ("tmpfs", "mqueue", "proc", "sysfs", "cgroup")
_PROC_ALLOWED = ("cpuinfo", "diskstats", "meminfo", "stat", "swaps", "uptime", "loadavg",
                 "slabinfo", "net/dev", "sys/kernel/ns_last_pid")


def check_proc_destination(rootfs: str, dest: str, source: str, index: int) -> None:
    """Refuse a mount on or inside the container's /proc (destination resolved in the rootfs),
    as runc does."""
    proc = rootfs.rstrip("/") + "/proc"
    resolved = paths.resolve_in_root(rootfs, dest)
    if resolved == proc:
        if _is_procfs(source):
            return
        raise ConfigError(f"mounts[{index}]: destination {dest} is /proc, and the source"
                          f" {source} is not a proc filesystem")
    if resolved.startswith(proc + "/") and resolved[len(proc) + 1:] not in _PROC_ALLOWED:
        raise ConfigError(f"mounts[{index}]: destination {dest} is inside /proc"
                          f" ({resolved[len(rootfs.rstrip('/')):]}); only"
                          f" {', '.join('/proc/' + p for p in _PROC_ALLOWED)} may be mounted"
                          " there")


def _is_procfs(path: str) -> bool:
    """Whether ``path`` lies on a proc filesystem (its longest mount point in mountinfo)."""
    try:
        real = os.path.realpath(path)
        best, fstype = "", ""
        for point, _root, fs, _src, _opts in parse_mountinfo():
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, fstype = point, fs
    except OSError:
        return False
    return fstype == "proc"


def open_directory_only(rootfs: str, dest: str, kind: str, index: int) -> int:
    """O_PATH fd of a proc or sysfs destination, which must be a real directory (CVE-2019-19921:
    proc mounted through a symlink lands elsewhere, e.g. on a volume the container shares).
    As runc 1.1.5: the destination's parent is resolved (inside the rootfs here; runc follows
    it on the host) and its last component, lexically cleaned, must not be a symlink or a
    non-directory; it is made when missing. The last component is opened with O_NOFOLLOW
    relative to the parent's fd, so a symlink swapped in after the check is refused too."""
    clean = os.path.normpath("/" + dest)
    parent_path, name = os.path.split(clean)
    what = f"mounts[{index}]: {kind} destination {dest}"
    if not name:
        return paths.open_in_root(rootfs, clean)
    parent = paths.open_in_root(rootfs, parent_path, "dir")
    try:
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError as err:
            raise KernelError(f"{what}: create: {err.strerror}") from None
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except OSError as err:
            raise KernelError(f"{what}: open: {err.strerror}") from None
    finally:
        os.close(parent)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISDIR(mode):
        os.close(fd)
        kind_of = "a symlink" if stat.S_ISLNK(mode) else "not a directory"
        raise ConfigError(f"{what} is {kind_of} in the rootfs; {kind} must be mounted on an"
                          " ordinary directory")
    return fd


def _finish_mount(sc: Syscalls, target: str, extra: int, parsed: mountopts.MountOptions,
                  m: Mount, index: int) -> None:
    try:
        if extra:
            _remount_bind(sc, target, extra)
        for prop in parsed.propagation:
            sc.mount(None, target, None, prop)
        if parsed.recursive:
            sc.mount_setattr(target, s.AT_RECURSIVE, parsed.attr_set, parsed.attr_clr)
    except OSError as err:
        raise _fail("remount", m, err, index) from None


def with_target(rootfs: str, dest: str, action: Callable[[str], None]) -> None:
    """Run ``action`` on a /proc/self/fd path for ``dest`` resolved safely inside rootfs."""
    fd = paths.open_in_root(rootfs, dest)
    try:
        action(paths.fd_path(fd))
    finally:
        os.close(fd)


# statvfs f_flag bits (ST_*) → MS_* flags that the kernel locks on a bind mount.
_LOCKED = ((1, s.MS_RDONLY), (2, s.MS_NOSUID), (4, s.MS_NODEV), (8, s.MS_NOEXEC),
           (1024, s.MS_NOATIME), (2048, s.MS_NODIRATIME), (4096, s.MS_RELATIME))


def _remount_bind(sc: Syscalls, target: str, flags: int) -> None:
    """Apply flags to a bind mount. Flags the source mount already has (e.g. nosuid on a user
    namespace's locked mount) must be repeated or the kernel refuses the remount."""
    try:
        sc.mount(None, target, None, s.MS_BIND | s.MS_REMOUNT | flags)
    except OSError as err:
        if err.errno != 1:  # EPERM
            raise
        current = os.statvfs(target).f_flag
        for st_flag, ms_flag in _LOCKED:
            if current & st_flag:
                flags |= ms_flag
        sc.mount(None, target, None, s.MS_BIND | s.MS_REMOUNT | flags)


def mask_path(sc: Syscalls, path: str) -> None:
    """Hide a path inside the container (after pivot_root): a read-only empty tmpfs over a
    directory, /dev/null over anything else. Missing paths are ignored."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    try:
        if stat.S_ISDIR(st.st_mode):
            sc.mount("tmpfs", path, "tmpfs", s.MS_RDONLY)
        else:
            sc.mount("/dev/null", path, None, s.MS_BIND)
    except OSError as err:
        if err.errno == 2:
            return
        raise KernelError(f"mask path {path}: {err.strerror}") from None


def readonly_path(sc: Syscalls, path: str) -> None:
    """Make a path read-only inside the container (after pivot_root); missing paths ignored."""
    if not os.path.lexists(path):
        return
    try:
        sc.mount(path, path, None, s.MS_BIND | s.MS_REC)
        # Keep what the mount already had (proc is often nosuid,nodev,noexec), as runc does.
        kept = os.statvfs(path).f_flag & (s.MS_NOSUID | s.MS_NODEV | s.MS_NOEXEC)
        _remount_bind(sc, path, s.MS_RDONLY | s.MS_REC | kept)
    except OSError as err:
        if err.errno == 2:
            return
        raise KernelError(f"make {path} read-only: {err.strerror}") from None


def parse_mountinfo(path: str = "/proc/self/mountinfo") -> list[tuple[str, str, str, str, str]]:
    """(mount point, root, fstype, source, super options + mount options) per line."""
    out = []
    with open(path) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            rfields = right.split()
            point = _unescape(fields[4])
            out.append((point, _unescape(fields[3]), rfields[0], rfields[1] if len(rfields) > 1
                        else "", (rfields[2] if len(rfields) > 2 else "") + "," + fields[5]))
    return out


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 4 <= len(value) and value[i + 1:i + 4].isdigit():
            out.append(chr(int(value[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
