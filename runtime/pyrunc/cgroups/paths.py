"""cgroupsPath → one directory per hierarchy, the way runc's cgroupfs driver resolves it.

* absolute ``/a/b``: ``<mountpoint>/a/b`` in every hierarchy;
* relative ``a/b``: below the runtime's own cgroup in each hierarchy (/proc/self/cgroup);
* empty: the container id, relative (runc 1.1.5, verified: ``runc run`` without cgroupsPath put
  the container in ``memory:/<runc's own memory cgroup>/<id>`` and ``cpu:/<id>`` here).
"""

from __future__ import annotations

import os

from pyrunc.cgroups.layout import UNIFIED, Layout
from pyrunc.errors import CgroupError, ConfigError


def clean_path(path: str) -> str:
    """Lexically clean ``path``; a relative path cannot climb above its base (runc's CleanPath)."""
    if not path:
        return ""
    if path.startswith("/"):
        return os.path.normpath(path).replace("//", "/")
    cleaned = os.path.normpath("/" + path)
    return os.path.relpath(cleaned, "/")


def inner_path(cgroups_path: str | None, container_id: str) -> str:
    """The path runc would use inside each hierarchy."""
    inner = clean_path(cgroups_path or container_id)
    if inner in ("", ".", "/"):
        raise CgroupError(f"cgroup: resolve cgroupsPath {cgroups_path!r}: "
                          "refers to a hierarchy root")
    return inner


def resolve(layout: Layout, cgroups_path: str | None, container_id: str) -> dict[str, str]:
    """{subsystem or "" (cgroup2): absolute directory} for every mounted hierarchy."""
    inner = inner_path(cgroups_path, container_id)
    keys = list(layout.v1)
    if layout.unified is not None:
        keys.append(UNIFIED)
    paths: dict[str, str] = {}
    for key in keys:
        if inner.startswith("/"):
            mount = layout.unified if key == UNIFIED else layout.v1[key]
            assert mount is not None
            base = mount.mountpoint
        else:
            base = layout.own_dir(key)
        paths[key] = os.path.normpath(base + "/" + inner.lstrip("/"))
    for path in paths.values():
        check_length(cgroups_path, path)
    return paths


PATH_MAX = 4096
_LONGEST_FILE = 64  # room for "/cgroup.clone_children" and the like below the directory


def check_length(cgroups_path: str | None, directory: str) -> None:
    """Refuse a directory the kernel could not make or use, before any is made (otherwise
    every level up to the limit is created first)."""
    size = len(directory.encode())
    if size + _LONGEST_FILE >= PATH_MAX:
        why = f"gives a {size}-byte directory, beyond what PATH_MAX ({PATH_MAX}) allows"
        if cgroups_path:  # the config asked for it
            raise ConfigError(f"invalid config: linux.cgroupsPath: the path "
                              f"({len(cgroups_path)} characters) {why}")
        raise CgroupError(f"cgroup: the default cgroup of the container id {why}")


def hierarchy_root(layout: Layout, key: str) -> str:
    """The mountpoint of hierarchy ``key`` (never removed, never created)."""
    mount = layout.unified if key == UNIFIED else layout.v1[key]
    assert mount is not None
    return mount.mountpoint
