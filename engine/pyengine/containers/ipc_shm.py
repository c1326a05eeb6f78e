"""A shareable-IPC container's /dev/shm on the host: a tmpfs of its --shm-size.

`namespaces.configure` binds the directory `<bundle>/shm` on the container's /dev/shm, and the
containers that join its IPC namespace bind it too (`namespaces.join`). As dockerd 20.10 does,
a tmpfs with the container's shm size (64 MiB by default) is mounted there when the container
starts and unmounted when it exits, is removed, or is found stopped at the daemon's start (a
crash between its exit and the unmount). Without it the directory sat on the exec root's
filesystem (/run's tmpfs) with no size limit: a container could fill /run. A joiner still
running when its donor exits keeps the tmpfs through its own bind, as with docker.
"""

from __future__ import annotations

from pathlib import Path

from pyengine.containers.model import Spec
from pyengine.containers.namespaces import SHM
from pyengine.containers.secopts import DEFAULT_SHM_SIZE
from pyengine.snapshots.mount import Mount, mount_all, unmount_all

OPTIONS = ["nosuid", "nodev", "noexec", "mode=1777"]


def shareable(spec: Spec) -> bool:
    """Whether the container has a /dev/shm of its own to mount (callers check first)."""
    return spec.ipc_mode == "shareable"


def mount(bundle: Path, spec: Spec) -> None:
    """Before a shareable container's task is created: a fresh tmpfs on `<bundle>/shm`."""
    target = bundle / SHM
    target.mkdir(mode=0o700, exist_ok=True)
    unmount_all(target)  # one a crash left there: a start begins with an empty /dev/shm
    size = spec.shm_size or DEFAULT_SHM_SIZE
    mount_all([Mount("tmpfs", "shm", [*OPTIONS, f"size={size}"])], target)


def unmount(bundle: Path) -> None:
    """Idempotent: nothing mounted, or no bundle any more, is fine."""
    target = bundle / SHM
    if target.is_dir():
        unmount_all(target)
