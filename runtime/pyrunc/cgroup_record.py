"""A container's recorded cgroup (state.json's ``cgroup``: mode, paths, roots, created), read
and removed without the cgroup managers.

``state``, ``start`` and ``delete`` run once per container under containerd and podman; loading
the managers (a dozen modules) costs them more than the few file operations they need in the
common case. Anything beyond that case (processes left, child cgroups, a malformed record) is
for :mod:`pyrunc.cgroups`. A path the system cannot name (a NUL, a lone surrogate: ValueError)
cannot exist, and is treated as gone: clean-up must never fail on a record a failed create left.
"""

from __future__ import annotations

import errno
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def frozen(saved: dict[str, Any] | None) -> bool:
    """Is the container's cgroup frozen (v1 freezer, or cgroup.freeze on v2)?"""
    paths = (saved or {}).get("paths") or {}
    try:
        if "freezer" in paths:  # v1 and hybrid: the v1 freezer
            with open(os.path.join(paths["freezer"], "freezer.state")) as f:
                return f.read().strip() == "FROZEN"
        if "" in paths:  # v2
            with open(os.path.join(paths[""], "cgroup.freeze")) as f:
                return f.read().strip() == "1"
    except (OSError, ValueError):
        pass
    return False


def remove_if_empty(saved: dict[str, Any]) -> bool:
    """Remove the container's directories, then the parents pyrunc created that are left empty.
    True when every container directory is gone; False as soon as one cannot go (processes
    still in it, child cgroups, a malformed record), leaving the rest for the manager."""
    try:
        paths = [str(p) for p in saved["paths"].values()]
        roots = {str(r).rstrip("/") for r in saved["roots"].values()}
        created = [str(p) for p in saved.get("created") or ()]
    except (KeyError, TypeError, AttributeError):
        return False
    leaves = list(dict.fromkeys(paths))  # co-mounted v1 controllers share a directory
    for path in leaves:
        if path.rstrip("/") in roots:
            continue
        try:
            os.rmdir(path)
        except (FileNotFoundError, ValueError):
            pass
        except OSError:
            return False
    try:
        remove_created_parents(created, set(leaves), roots)
    except OSError:
        return False
    return True


def remove_created_parents(created: list[str], leaves: set[str], roots: set[str]) -> None:
    """rmdir, deepest first, the directories pyrunc created above the container's own (never a
    leaf, never a hierarchy root), keeping those still in use (busy or not empty). Other errors
    raise OSError with the path."""
    for path in reversed(created):
        if path in leaves or path.rstrip("/") in roots:
            continue
        try:
            os.rmdir(path)
        except ValueError:
            continue
        except OSError as err:
            if err.errno not in (errno.ENOENT, errno.EBUSY, errno.ENOTEMPTY):
                raise OSError(err.errno, err.strerror, path) from None
