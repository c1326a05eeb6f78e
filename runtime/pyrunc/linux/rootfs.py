"""Building the container's filesystem view inside its new mount namespace.

Order (each step's reason in its comment): propagation of / → bind the rootfs onto itself →
config mounts → /dev (devices, symlinks, ptmx) → [createRuntime/prestart and createContainer
hooks run here, via ``before_pivot``] → pivot_root (or MS_MOVE + chroot with --no-pivot) →
masked and read-only paths, sysctl, read-only root (``finish``).
"""

from __future__ import annotations

import os

from pyrunc.errors import ConfigError, KernelError

from . import devices, mounts
from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pyrunc.spec.model import Config

    from .syscalls import Syscalls

_PROPAGATION = {
    "private": s.MS_PRIVATE, "rprivate": s.MS_PRIVATE | s.MS_REC,
    "slave": s.MS_SLAVE, "rslave": s.MS_SLAVE | s.MS_REC,
    "shared": s.MS_SHARED, "rshared": s.MS_SHARED | s.MS_REC,
    "unbindable": s.MS_UNBINDABLE, "runbindable": s.MS_UNBINDABLE | s.MS_REC,
}


def _k(op: str, err: OSError) -> KernelError:
    return KernelError(f"{op}: {err.strerror or err}")


def _make_parent_private(sc: Syscalls, rootfs: str) -> None:
    """pivot_root refuses a new root whose parent mount is shared: make the mount that holds the
    rootfs private (only in our namespace)."""
    best = "/"
    for point, _root, _fs, _src, _opts in mounts.parse_mountinfo():
        if (rootfs == point or rootfs.startswith(point.rstrip("/") + "/")) and len(point) > len(
                best):
            best = point
    try:
        sc.mount(None, best, None, s.MS_PRIVATE)
    except OSError as err:
        raise _k(f"make parent mount {best} private", err) from None


def prepare(sc: Syscalls, config: Config, bundle: str, rootfs: str, in_userns: bool,
            before_pivot: Callable[[], None], no_pivot: bool, cgroupns: bool = False,
            cgroup_paths: dict[str, str] | None = None,
            before_dev: Callable[[], None] | None = None, mount_ns: bool = True) -> None:
    """Build the rootfs and pivot into it. ``before_dev`` runs before the device nodes are
    made (the init waits there until its device cgroup rules are final), ``before_pivot``
    before pivot_root (hooks). Without a mount namespace of the container's own
    (``mount_ns`` False) the mounts land in the runtime's namespace, as runc's do, and the
    init is chrooted, not pivoted (pivot_root would move every process of that namespace);
    unlike runc, no existing mount's propagation is changed there: only the rootfs bind's."""
    linux = config.linux
    propagation = _PROPAGATION.get((linux.rootfs_propagation if linux else None) or "",
                                   s.MS_SLAVE | s.MS_REC)
    if mount_ns:
        try:
            # Mount events from the container must not reach the host (rslave by default).
            sc.mount(None, "/", None, propagation)
        except OSError as err:
            raise _k("set propagation of /", err) from None
        _make_parent_private(sc, rootfs)
    try:
        # A bind of the rootfs onto itself makes it a mount point (pivot_root needs one).
        sc.mount(rootfs, rootfs, None, s.MS_BIND | s.MS_REC)
        if not mount_ns:  # the mounts made under it stay out of the host's peer groups
            sc.mount(None, rootfs, None, s.MS_PRIVATE | s.MS_REC)
    except OSError as err:
        raise _k(f"bind rootfs {rootfs}", err) from None
    dev_is_bind = False
    for index, m in enumerate(config.mounts or ()):
        mounts.mount_entry(sc, rootfs, bundle, m, cgroupns, cgroup_paths, index)
        if m.destination.rstrip("/") == "/dev" and m.is_bind:
            dev_is_bind = True
    if before_dev is not None:
        before_dev()
    if not dev_is_bind:  # as runc: a bind-mounted /dev is taken as it is
        devices.setup_dev(sc, rootfs, linux.devices if linux else None, in_userns,
                          bool(config.process and config.process.terminal))
    before_pivot()
    if not mount_ns:
        _chroot(rootfs)
    elif no_pivot:
        _move_root(sc, rootfs)
    else:
        _pivot(sc, rootfs)
    if propagation & (s.MS_SHARED | s.MS_PRIVATE | s.MS_UNBINDABLE):
        try:
            sc.mount(None, "/", None, propagation)
        except OSError as err:
            raise _k("set rootfs propagation", err) from None


def _pivot(sc: Syscalls, rootfs: str) -> None:
    """pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the
    container's tree, with no directory to create for the old root."""
    old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new_root = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fchdir(new_root)
        sc.pivot_root(".", ".")
        os.fchdir(old_root)
        # The old root must not propagate the unmount back to the host.
        sc.mount(None, ".", None, s.MS_SLAVE | s.MS_REC)
        sc.umount2(".", s.MNT_DETACH)
        os.chdir("/")
    except OSError as err:
        raise _k(f"pivot_root {rootfs}", err) from None
    finally:
        os.close(old_root)
        os.close(new_root)


def _chroot(rootfs: str) -> None:
    try:
        os.chdir(rootfs)
        os.chroot(".")
        os.chdir("/")
    except OSError as err:
        raise _k(f"chroot to rootfs {rootfs}", err) from None


def _move_root(sc: Syscalls, rootfs: str) -> None:
    try:
        os.chdir(rootfs)
        sc.mount(rootfs, "/", None, s.MS_MOVE)
        os.chroot(".")
        os.chdir("/")
    except OSError as err:
        raise _k(f"move rootfs {rootfs} to / (--no-pivot)", err) from None


_NET_SYSCTL = ("net.",)
_IPC_SYSCTL = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
               "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", "fs.mqueue.")
_UTS_SYSCTL = ("kernel.hostname", "kernel.domainname")


def check_sysctl(sysctl: dict[str, str], new_namespaces: set[str],
                 joined: dict[str, str] | None = None) -> None:
    """Only namespaced sysctls, and only for namespaces the container has, new or joined by
    path (runc's rule); a joined network namespace that is the runtime's own is the host's."""
    for key in sysctl:
        if key.startswith(_NET_SYSCTL):
            need = "network"
        elif key.startswith(_IPC_SYSCTL):
            need = "ipc"
        elif key in _UTS_SYSCTL:
            need = "uts"
        else:
            raise ConfigError(f"sysctl {key!r} is not in a separate kernel namespace")
        path = (joined or {}).get(need)
        if need not in new_namespaces and (path is None or (
                need == "network" and _is_own_netns(path))):
            raise ConfigError(f"sysctl {key!r} is not allowed in the host's {need} namespace")


def _is_own_netns(path: str) -> bool:
    """`path` names this process' network namespace (runc compares the links' targets; the
    inode also catches a bind mount of it). A path that cannot be read is left to the join,
    which reports it."""
    try:
        there, here = os.stat(path), os.stat("/proc/self/ns/net")
    except OSError:
        return False
    return (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino)


def finish(sc: Syscalls, config: Config) -> None:
    linux = config.linux
    if linux is not None:
        for key, value in (linux.sysctl or {}).items():
            path = "/proc/sys/" + key.replace(".", "/")
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError as err:
                raise KernelError(f"write sysctl {key}={value} ({path}): {err.strerror}"
                                  ) from None
        for path in linux.readonly_paths or ():
            mounts.readonly_path(sc, path)
        for path in linux.masked_paths or ():
            mounts.mask_path(sc, path)
    if config.root.readonly:
        try:
            sc.mount(None, "/", None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY)
        except OSError:
            try:
                mounts._remount_bind(sc, "/", s.MS_RDONLY)
            except OSError as err:
                raise _k("remount / read-only", err) from None
