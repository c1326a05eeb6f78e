"""docker's init layer: the entries dockerd puts between an image and a container's own
layer (/.dockerenv, /etc/mtab -> /proc/mounts, /dev/console, /dev/pts/, /dev/shm/), written
into a new container's rootfs when the image lacks them. diff and commit leave them out as
they do the runtime's mount points (changes.runtime_mount_point).

Paths are resolved inside the rootfs (rootfs.open_in_root): an image's symlinked /etc or /dev
cannot send a write to the host."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pyengine.containers.rootfs import open_in_root

MTAB_TARGET = "/proc/mounts"
# (parent, name, kind): "file" an empty file, "dir" a directory, "link" the mtab symlink
ENTRIES = (("", ".dockerenv", "file"), ("etc", "mtab", "link"), ("dev", "console", "file"),
           ("dev", "pts", "dir"), ("dev", "shm", "dir"))
# what an entry that is there already, or a parent that is no directory, raises: left be
_LEFT_AS_THEY_ARE = (FileExistsError, NotADirectoryError, FileNotFoundError)


def populate(root: Path) -> None:
    """Create the init layer's entries missing from rootfs `root` (blocking)."""
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for parent, name, kind in ENTRIES:
            with contextlib.suppress(*_LEFT_AS_THEY_ARE):
                _create(root_fd, parent, name, kind)
    finally:
        os.close(root_fd)


def _create(root_fd: int, parent: str, name: str, kind: str) -> None:
    if parent:
        with contextlib.suppress(FileExistsError):
            os.mkdir(parent, 0o755, dir_fd=root_fd)
    dir_fd = open_in_root(root_fd, parent) if parent else os.dup(root_fd)
    try:
        if kind == "dir":
            os.mkdir(name, 0o755, dir_fd=dir_fd)
        elif kind == "link":
            os.symlink(MTAB_TARGET, name, dir_fd=dir_fd)
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(name, flags, 0o755, dir_fd=dir_fd))
    finally:
        os.close(dir_fd)
