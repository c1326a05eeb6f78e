"""Resolving container paths inside the rootfs without ever leaving it.

``resolve_in_root`` walks a path component by component, expanding symlinks as if ``root`` were
``/`` (an absolute link restarts at root, ``..`` stops at root), like filepath-securejoin.
``open_in_root`` then creates what is missing and returns an O_PATH fd, re-checked through
/proc/self/fd to still be inside root, so mounts are made on ``/proc/self/fd/N`` and a symlink
swapped in after the check cannot redirect them.
"""

from __future__ import annotations

import errno
import os
import stat

from pyrunc.errors import KernelError

MAX_SYMLINKS = 255


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def resolve_in_root(root: str, path: str) -> str:
    root = root.rstrip("/") or "/"
    pending = _split(path)
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            resolved.append(part)
            continue
        except NotADirectoryError:
            raise KernelError(f"resolve {path} in {root}: {candidate}: not a directory") from None
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAX_SYMLINKS:
                raise KernelError(f"resolve {path} in {root}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending = _split(target) + pending
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def within(root: str, path: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/") or root == ""


def open_in_root(root: str, path: str, make: str | None = None, mode: int = 0o755) -> int:
    """O_PATH fd for ``path`` inside ``root``; ``make`` = "dir" or "file" creates it (and any
    missing parent directories) when absent. Raises KernelError naming the path."""
    target = resolve_in_root(root, path)
    if make is not None and not os.path.lexists(target):
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            # Parents are created one level at a time through resolve_in_root again, so a
            # symlink among them is followed inside root only.
            close(open_in_root(root, os.path.relpath(parent, root), "dir"))
            target = resolve_in_root(root, path)
        try:
            if make == "dir":
                os.mkdir(target, mode)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 0o644))
        except FileExistsError:
            pass
        except OSError as err:
            raise KernelError(f"create mount point {path} in {root}: {err.strerror}") from None
    try:
        fd = os.open(target, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        raise KernelError(f"open {path} in {root}: {err.strerror}") from None
    real = os.readlink(f"/proc/self/fd/{fd}")
    if not within(os.path.realpath(root), real):
        os.close(fd)
        raise KernelError(f"open {path} in {root}: resolves outside the rootfs ({real})")
    return fd


def close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError as err:
        if err.errno != errno.EBADF:
            raise


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"
