"""Where ``root.path`` points: the container's rootfs directory, with runc's rule that no
component of it may be a symlink.

A relative path is taken from the bundle directory with the bundle's own symlinks resolved (runc
runs in the bundle and takes getcwd(), which has none). A symlink inside ``root.path`` itself
would make pyrunc build the container's /dev, /proc and /sys on whatever it points at, a host
directory included: runc 1.1.5 refuses it ("invalid rootfs: not an absolute path, or a
symlink"), and so does pyrunc, before anything is created.
"""

from __future__ import annotations

import os

from pyrunc.errors import ConfigError


def rootfs_path(bundle: str, root: str) -> str:
    """The absolute rootfs directory for ``root.path`` of the bundle at ``bundle``."""
    base = os.path.realpath(bundle)
    rootfs = os.path.normpath(root if os.path.isabs(root) else os.path.join(base, root))
    if not os.path.isdir(rootfs):
        raise ConfigError(f"rootfs ({rootfs}) does not exist")
    real = os.path.realpath(rootfs)
    if real != rootfs:
        raise ConfigError(f"invalid config: root.path: {root!r} goes through a symlink"
                          f" ({rootfs} is {real}); the rootfs must be named by its real path")
    return rootfs
