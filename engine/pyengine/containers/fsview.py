"""A container's files as its processes see them, for cp (the archive endpoints, pyctl cp): the
rootfs with the container's volumes and bind mounts, and its generated /etc/hostname,
/etc/hosts and /etc/resolv.conf, mounted at their destinations, as dockerd mounts them for its
archive calls (daemon.mountVolumes: tmpfs mounts are not part of it, so cp sees the rootfs
under them; a stopped container's volumes are there too).

The view is a private mount tree on a scratch directory the caller mounted the rootfs on:
that mount is made private first, so nothing mounted on it propagates to the container, its
volumes or the host; then each source is bound (recursively, private, read-only when its
mount point is) on its destination resolved inside the view (rootfs.make_in_root: symlinks as
if the rootfs were `/`; a missing mount point is made, as dockerd and the runtime make it).
Paths are then resolved in the view as in a rootfs alone: openat2(RESOLVE_IN_ROOT) and the
fallback walk cross mount points as the container's own lookups do. The caller detaches the
whole tree when the call ends.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.containers.rootfs import make_in_root, open_in_root
from pyengine.errors import FailedPrecondition
from pyengine.volumes.mountspec import BIND, VOLUME

if TYPE_CHECKING:
    from pyengine.containers.mounts import MountPoint

ETC_FILES = frozenset({"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"})


@dataclass(frozen=True)
class ViewMount:
    """One mount of the view: host path `source` at container path `destination`."""

    destination: str
    source: str
    rw: bool = True
    volume: bool = True  # a volume or a bind (docker's MountPoints); False: a generated file


@dataclass(frozen=True)
class Mounted:
    """A mount made in the view: where it is, symlinks resolved, as a container path."""

    path: str
    rw: bool
    volume: bool


class View:
    """The view's root directory (a descriptor the caller owns) and what is mounted in it."""

    def __init__(self, root_fd: int, prefix: str = "", mounted: Sequence[Mounted] = ()) -> None:
        self.root_fd = root_fd
        self.prefix = prefix  # the view root's host path ("": a rootfs alone)
        self.mounted = list(mounted)

    def volume_of(self, fd: int) -> Mounted | None:
        """The volume or bind mount holding the file of descriptor `fd`, the innermost one
        (dockerd's checkIfPathIsInAVolume), or None when it is in the rootfs."""
        volumes = [m for m in self.mounted if m.volume]
        if not volumes:
            return None
        path = container_path(os.readlink(f"/proc/self/fd/{fd}"), self.prefix)
        holding = [m for m in volumes if _holds(m.path, path)]
        return max(holding, key=lambda m: len(m.path)) if holding else None


def _holds(mount_path: str, path: str) -> bool:
    return mount_path == "/" or path == mount_path or path.startswith(mount_path + "/")


def container_path(host_path: str, prefix: str) -> str:
    """`host_path` (under the view's root `prefix`) as the container names it."""
    if host_path == prefix:
        return "/"
    if not host_path.startswith(prefix + "/"):
        raise FailedPrecondition(f"resolve {host_path}: outside the container's view {prefix}")
    return host_path[len(prefix):]


def sources(points: Sequence[MountPoint], bundle_config: Mapping | None) -> list[ViewMount]:
    """What the view mounts, parents first: the volumes and binds, then the generated /etc
    files the bundle binds (those that exist: a container never started has none) unless a
    volume or bind is mounted there instead, as dockerd orders them (setupMounts)."""
    own = sorted((ViewMount(p.destination, p.source, p.rw) for p in points
                  if p.type in (BIND, VOLUME) and p.source),
                 key=lambda m: len([c for c in m.destination.split("/") if c]))
    taken = {m.destination for m in own}
    etc = []
    for raw in (bundle_config or {}).get("mounts") or []:
        destination, source = raw.get("destination"), raw.get("source")
        if (raw.get("type") == "bind" and destination in ETC_FILES
                and destination not in taken and isinstance(source, str)
                and os.path.isfile(source)):
            etc.append(ViewMount(destination, source, rw=True, volume=False))
    return own + etc


def mount_into(target: Path, mounts: Sequence[ViewMount]) -> list[Mounted]:
    """Make the rootfs mounted on `target` private and bind `mounts` into it (blocking)."""
    from pyengine.snapshots.mount import bind, make_private

    make_private(str(target))
    prefix = os.path.realpath(target)
    root_fd = os.open(target, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        done = []
        for m in mounts:
            try:
                source = os.stat(m.source)
                point = make_in_root(root_fd, m.destination,
                                     directory=stat.S_ISDIR(source.st_mode))
            except OSError as err:
                raise FailedPrecondition(f"mount {m.source} at {m.destination} for the "
                                         f"container's files: {err.strerror}") from None
            try:
                path = container_path(os.readlink(f"/proc/self/fd/{point}"), prefix)
                bind(m.source, f"/proc/self/fd/{point}")
            finally:
                os.close(point)
            # the descriptor names what is under the new mount: look it up again, and make
            # sure it is the new mount (a running container may have moved things meanwhile)
            again = open_in_root(root_fd, path)
            try:
                found = os.fstat(again)
                if (found.st_dev, found.st_ino) != (source.st_dev, source.st_ino):
                    raise FailedPrecondition(f"mount {m.source} at {m.destination} for the "
                                             "container's files: the mount point moved")
                make_private(f"/proc/self/fd/{again}", read_only=not m.rw)
            finally:
                os.close(again)
            done.append(Mounted(path, m.rw, m.volume))
        return done
    finally:
        os.close(root_fd)
