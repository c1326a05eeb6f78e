"""Resolve a path inside one directory as if it were `/` (docker's FollowSymlinkInScope).

Symlinks are followed, but an absolute target restarts at the scope's root and `..` stops
there, so the result always names something inside the scope. Every component is looked at
through a descriptor of its parent (lstat/readlink relative to an O_PATH|O_NOFOLLOW directory
descriptor), never through a host path. The result is the real path of components (no
symlinks, no `..`); the caller opens it component by component with O_NOFOLLOW
(archive.safefs.RootedDirs), so a symlink swapped in after resolution is refused, not followed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

MAX_SYMLINKS = 40
_PATH_DIR = os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True)
class Resolved:
    """`parts`: the real components that exist; `missing`: the components after them that do
    not exist (lexically cleaned). `st`: lstat of the last existing part when nothing is
    missing (the root's stat for an empty path), else None."""

    parts: tuple[str, ...]
    missing: tuple[str, ...]
    st: os.stat_result | None

    @property
    def path(self) -> str:
        return "/".join(self.parts + self.missing)

    @property
    def exists(self) -> bool:
        return not self.missing


def components(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def clean(path: str) -> str:
    """`path` cleaned lexically against `/`: no empty, `.` or `..` components, relative."""
    out: list[str] = []
    for part in components(path):
        if part == "..":
            if out:
                out.pop()
        else:
            out.append(part)
    return "/".join(out)


def resolve(root_fd: int, path: str) -> Resolved:
    """Resolve `path` (absolute or not, all symlinks followed, the last one too) in the
    directory `root_fd`. OSError(ELOOP) after MAX_SYMLINKS links; OSError(ENOTDIR) when a
    component that must be a directory is something else."""
    pending = components(path)
    stack = [os.open(".", _PATH_DIR, dir_fd=root_fd)]
    parts: list[str] = []
    missing: list[str] = []
    last: os.stat_result | None = os.fstat(stack[0])
    links = 0
    try:
        while pending:
            part = pending.pop(0)
            if missing:  # below a missing component everything is lexical
                if part == "..":
                    missing.pop()
                else:
                    missing.append(part)
                continue
            if part == "..":
                if parts:
                    parts.pop()
                    os.close(stack.pop())
                last = os.fstat(stack[-1])
                continue
            try:
                st = os.stat(part, dir_fd=stack[-1], follow_symlinks=False)
            except FileNotFoundError:
                missing.append(part)
                continue
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                target = os.readlink(part, dir_fd=stack[-1])
                if target.startswith("/"):
                    for fd in stack[1:]:
                        os.close(fd)
                    del stack[1:]
                    parts.clear()
                    last = os.fstat(stack[0])
                pending = components(target) + pending
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(os.open(part, _PATH_DIR, dir_fd=stack[-1]))
                parts.append(part)
                last = st
                continue
            if pending:
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
            parts.append(part)
            last = st
    finally:
        for fd in stack:
            os.close(fd)
    return Resolved(tuple(parts), tuple(missing), None if missing else last)
