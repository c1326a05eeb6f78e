"""/dev inside the container: the runtime spec's default devices, linux.devices, the standard
symlinks and /dev/ptmx. Device nodes are made with mknod, or bind-mounted from the host when the
container has its own user namespace (mknod is not allowed there)."""

from __future__ import annotations

import os
import stat

from pyrunc.errors import KernelError
from pyrunc.spec.model import Device

from . import paths
from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .syscalls import Syscalls

# (path, type, major, minor): the runtime spec's default devices.
DEFAULT_DEVICES = (
    ("/dev/null", "c", 1, 3), ("/dev/zero", "c", 1, 5), ("/dev/full", "c", 1, 7),
    ("/dev/random", "c", 1, 8), ("/dev/urandom", "c", 1, 9), ("/dev/tty", "c", 5, 0),
)
SYMLINKS = (("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"))

_TYPE_BITS = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def device_list(linux_devices: list[Device] | None) -> list[Device]:
    """Defaults first, then linux.devices (which override a default at the same path)."""
    explicit = {d.path: d for d in linux_devices or ()}
    out = [Device(path=p, type=t, major=ma, minor=mi, file_mode=0o666, uid=0, gid=0)
           for p, t, ma, mi in DEFAULT_DEVICES if p not in explicit]
    out.extend(explicit.values())
    return out


def create_device(sc: Syscalls, rootfs: str, dev: Device, bind: bool, field: str = "") -> None:
    """Make (or, in a user namespace, bind from the host) one node; ``field`` names its
    linux.devices entry in errors ("" for a default device)."""
    path = dev.path
    what = f"{field}: create device {path}" if field else f"create device {path}"
    if not path.startswith("/dev/"):
        raise KernelError(f"{what}: devices must be under /dev")
    target = paths.resolve_in_root(rootfs, path)
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        paths.close(paths.open_in_root(rootfs, os.path.dirname(path), "dir"))
    kind = dev.type
    mode = 0o666 if dev.file_mode is None else dev.file_mode
    try:
        if os.path.lexists(target):
            os.unlink(target)
        if bind:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o000))
            sc.mount(path, target, None, s.MS_BIND)
            return
        rdev = os.makedev(dev.major or 0, dev.minor or 0)
        os.mknod(target, (mode & 0o7777) | _TYPE_BITS[kind], rdev)
        os.chmod(target, mode & 0o7777)  # mknod is subject to the umask
        os.chown(target, dev.uid or 0, dev.gid or 0, follow_symlinks=False)
    except OSError as err:
        raise KernelError(f"{what}: {err.strerror}") from None


def setup_dev(sc: Syscalls, rootfs: str, linux_devices: list[Device] | None, in_userns: bool,
              terminal: bool) -> None:
    old_umask = os.umask(0)
    try:
        index = {id(d): i for i, d in enumerate(linux_devices or ())}
        for dev in device_list(linux_devices):
            field = f"linux.devices[{index[id(dev)]}]" if id(dev) in index else ""
            create_device(sc, rootfs, dev, in_userns, field)
    finally:
        os.umask(old_umask)
    dev_dir = paths.resolve_in_root(rootfs, "/dev")
    links = list(SYMLINKS)
    if os.path.exists("/proc/kcore"):
        links.append(("/proc/kcore", "/dev/core"))
    for target, link in links:
        where = os.path.join(dev_dir, os.path.basename(link))
        if not os.path.lexists(where):
            os.symlink(target, where)
    # Always the container's own devpts instance, even when linux.devices lists the host's
    # /dev/ptmx (privileged containers get every host device): runc does the same.
    ptmx = os.path.join(dev_dir, "ptmx")
    if os.path.lexists(ptmx):
        os.unlink(ptmx)
    os.symlink("pts/ptmx", ptmx)
    if terminal:
        console = os.path.join(dev_dir, "console")
        if not os.path.lexists(console):
            os.close(os.open(console, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
