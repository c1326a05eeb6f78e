"""docker ps -s: the bytes a container wrote (its writable layer's files, as docker's
SizeRw counts them) and, with its image's, its whole root filesystem (SizeRootFs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.containers.changes import runtime_mount_point
from pyengine.errors import EngineError

if TYPE_CHECKING:
    from pyengine.containers.model import Container
    from pyengine.containers.service import ContainerService


def tree_size(root: Path, skip: Callable[[str, os.stat_result], bool] | None = None) -> int:
    """Sum of the sizes of the files (not directories) under `root`, each inode once; `skip`
    (a path relative to `root`, its lstat) leaves entries out."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen or \
                    (skip is not None and skip(os.path.relpath(path, root), st)):
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def writable_size(upper: Path) -> int:
    """The bytes of a writable layer as docker counts them (SizeRw, prune's reclaimed space):
    its init layer left out."""
    return tree_size(upper, skip=runtime_mount_point)


def container_sizes(service: ContainerService, c: Container) -> tuple[int, int]:
    """Blocking: (size_rw, size_root_fs); 0 for what cannot be measured (removed meanwhile)."""
    try:
        rw = writable_size(service.snapshotter.upper_dir(c.snapshot))
    except (EngineError, OSError):
        rw = 0
    try:
        image = service.images.resolve_local(c.image_id)
        image_size = sum(service.images.layer_sizes(image).values())
    except EngineError:
        image_size = 0
    return rw, rw + image_size
