"""Shims left serving a container the engine does not run: a daemon killed in the middle of a
start leaves the container recorded as created (or exited) while the shim it launched for the
run lives on, holding the rootfs mount, the runtime's state and its cgroup. The next daemon
start finds such a shim by the socket its bundle's `address` names (a shim that ended removed
it) and the processes working in the bundle (a shim works there, as the runtime it calls does;
containerd's Go shim writes no pid file there), and ends them."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def end_stray_shim(bundle: Path) -> str | None:
    """SIGKILL what still works in `bundle` if its shim's socket is left; the socket's path
    (for the caller to clean the runtime's state and the socket), else None."""
    try:
        address = (bundle / "address").read_text().strip().removeprefix("unix://")
    except OSError:
        return None
    if not address or not os.path.exists(address):
        return None
    for pid in processes_in(bundle):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return address


def processes_in(directory: Path) -> list[int]:
    """Pids of the processes whose working directory is `directory`."""
    target = os.path.realpath(directory)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/cwd") == target:
                    found.append(int(entry))
    return found
