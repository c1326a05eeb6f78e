"""OOM kills in a container's memory cgroup, reported as they happen (TaskOOM events).

cgroup v1: an eventfd registered on memory.oom_control through cgroup.event_control fires on
each OOM in the cgroup (the kernel signals it before its OOM killer runs, so the oom_kill
counter may not have moved yet), and once when the cgroup is removed (memory.oom_control is then
gone: not an OOM), as containerd's own cgroups package tells them apart.

cgroup v2: inotify on the cgroup's memory.events, whose `oom_kill` counter is compared with the
last one seen on each change (so a change of another counter such as `high` is no OOM); the
watch ends when the file goes with its cgroup (IN_IGNORED). A hybrid host's memory controller
is a v1 one. A container with no memory cgroup of either kind is not watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from . import linux

V1_MEMORY = "/sys/fs/cgroup/memory"
V2_ROOT = "/sys/fs/cgroup"


@dataclass
class _Watch:
    directory: str
    fd: int  # v1: the eventfd; v2: the inotify descriptor
    control: int = -1  # v1: memory.oom_control, open while registered
    kills: int = 0  # v2: the oom_kill count last seen


def _memory_cgroup(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            text = f.read()
    except OSError:
        return None
    return memory_cgroup_of(text)


def memory_cgroup_of(proc_cgroup: str, v1_root: str = V1_MEMORY, v2_root: str = V2_ROOT
                     ) -> tuple[str, int] | None:
    """The directory of the memory cgroup a /proc/PID/cgroup text names and its version (1 or
    2), if there is one on this host."""
    unified = None
    for line in proc_cgroup.splitlines():
        try:
            hierarchy, controllers, path = line.split(":", 2)
        except ValueError:
            continue
        if "memory" in controllers.split(","):
            directory = os.path.join(v1_root, path.lstrip("/"))
            return (directory, 1) if os.path.isdir(directory) else None
        if hierarchy == "0" and not controllers:
            unified = os.path.join(v2_root, path.lstrip("/"))
    if unified is not None and os.path.exists(os.path.join(unified, "memory.events")):
        return unified, 2
    return None


def _kill_count(directory: str, name: str) -> int | None:
    """The `oom_kill` count of a cgroup's keyed file `name` (v1 memory.oom_control, v2
    memory.events); None once the cgroup is gone."""
    try:
        with open(os.path.join(directory, name)) as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return 0


def _v2_kills(directory: str) -> int | None:
    return _kill_count(directory, "memory.events")


def _oom_kills(directory: str) -> int | None:
    return _kill_count(directory, "memory.oom_control")


class OomWatcher:
    def __init__(self, on_oom: Callable[[str], None]) -> None:
        self.on_oom = on_oom
        self._watches: dict[str, _Watch] = {}

    def watch(self, container_id: str, pid: int) -> None:
        """Watch the memory cgroup `pid` is in; nothing when it has none."""
        found = _memory_cgroup(pid)
        if found is None:
            return
        directory, version = found
        if version == 2:
            self.watch_v2(container_id, directory)
            return
        if _oom_kills(directory) is None:
            return
        efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        control = -1
        try:
            control = os.open(os.path.join(directory, "memory.oom_control"), os.O_RDONLY)
            with open(os.path.join(directory, "cgroup.event_control"), "w") as f:
                f.write(f"{efd} {control}")
        except OSError:
            os.close(efd)
            if control >= 0:
                os.close(control)
            return
        self._watches[container_id] = _Watch(directory, efd, control)
        asyncio.get_running_loop().add_reader(efd, self._fired, container_id)

    def watch_v2(self, container_id: str, directory: str) -> None:
        """Watch a cgroup v2 directory's memory.events."""
        kills = _v2_kills(directory)
        if kills is None:
            return
        try:
            fd = linux.inotify_init()
        except OSError:
            return
        try:
            linux.inotify_watch(fd, os.path.join(directory, "memory.events"), linux.IN_MODIFY)
        except OSError:
            os.close(fd)
            return
        self._watches[container_id] = _Watch(directory, fd, kills=kills)
        asyncio.get_running_loop().add_reader(fd, self._changed, container_id)

    def _changed(self, container_id: str) -> None:
        watch = self._watches.get(container_id)
        if watch is None:
            return
        try:
            masks = linux.inotify_masks(os.read(watch.fd, 4096))
        except BlockingIOError:
            return
        kills = _v2_kills(watch.directory)
        if kills is not None and kills > watch.kills:
            watch.kills = kills
            self.on_oom(container_id)
        if kills is None or any(mask & linux.IN_IGNORED for mask in masks):
            self.unwatch(container_id)

    def _fired(self, container_id: str) -> None:
        watch = self._watches.get(container_id)
        if watch is None:
            return
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(watch.fd)
        if _oom_kills(watch.directory) is None:  # the cgroup is gone
            self.unwatch(container_id)
        else:
            self.on_oom(container_id)

    def unwatch(self, container_id: str) -> None:
        watch = self._watches.pop(container_id, None)
        if watch is not None:
            asyncio.get_running_loop().remove_reader(watch.fd)
            os.close(watch.fd)
            if watch.control >= 0:
                os.close(watch.control)
