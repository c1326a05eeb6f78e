"""OOM kills in a container's memory cgroup, reported as they happen (TaskOOM events).

cgroup v1: an eventfd registered on memory.oom_control through cgroup.event_control fires on
each OOM in the cgroup (the kernel signals it before its OOM killer runs, so the oom_kill
counter may not have moved yet), and once when the cgroup is removed (memory.oom_control is then
gone: not an OOM), as containerd's own cgroups package tells them apart. A container whose
memory cgroup is not a v1 one is not watched (cgroup v2's memory.events would need inotify;
not done yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass

V1_MEMORY = "/sys/fs/cgroup/memory"


@dataclass
class _Watch:
    directory: str
    eventfd: int
    control: int


def _memory_cgroup(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "memory" in controllers.split(","):
                    directory = os.path.join(V1_MEMORY, path.lstrip("/"))
                    return directory if os.path.isdir(directory) else None
    except (OSError, ValueError):
        pass
    return None


def _oom_kills(directory: str) -> int | None:
    try:
        with open(os.path.join(directory, "memory.oom_control")) as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return 0


class OomWatcher:
    def __init__(self, on_oom: Callable[[str], None]) -> None:
        self.on_oom = on_oom
        self._watches: dict[str, _Watch] = {}

    def watch(self, container_id: str, pid: int) -> None:
        """Watch the memory cgroup `pid` is in; nothing when there is no v1 one."""
        directory = _memory_cgroup(pid)
        if directory is None or _oom_kills(directory) is None:
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

    def _fired(self, container_id: str) -> None:
        watch = self._watches.get(container_id)
        if watch is None:
            return
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(watch.eventfd)
        if _oom_kills(watch.directory) is None:  # the cgroup is gone
            self.unwatch(container_id)
        else:
            self.on_oom(container_id)

    def unwatch(self, container_id: str) -> None:
        watch = self._watches.pop(container_id, None)
        if watch is not None:
            asyncio.get_running_loop().remove_reader(watch.eventfd)
            os.close(watch.eventfd)
            os.close(watch.control)
