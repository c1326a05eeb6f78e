"""Shims left serving a container the engine does not run: a daemon killed in the middle of a
start leaves the container recorded as created (or exited) while the shim it launched for the
run lives on, holding the rootfs mount, the runtime's state and its cgroup. The next daemon
start finds such a shim by the pid file it wrote in the bundle (checked against its working
directory, the bundle, so a reused pid is never taken for it) and ends it."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def end_stray_shim(bundle: Path) -> str | None:
    """SIGKILL the shim serving `bundle`, if one is alive; its socket address, else None."""
    try:
        pid = int((bundle / "shim.pid").read_text().strip())
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (OSError, ValueError):
        return None
    if os.path.realpath(cwd) != os.path.realpath(bundle):
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    try:
        return (bundle / "address").read_text().strip().removeprefix("unix://")
    except OSError:
        return ""
