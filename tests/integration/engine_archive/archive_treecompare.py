"""Describe a directory tree (types, modes, owners, contents, links, xattrs) for comparisons."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def _xattrs(path: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in sorted(names)}


def describe(root: Path, *, mtimes: bool = True) -> tuple[dict[str, tuple], set[frozenset]]:
    """({relative path: attributes}, hardlink groups) of everything below root."""
    entries: dict[str, tuple] = {}
    inodes: dict[tuple[int, int], list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            detail: object = None
            if stat.S_ISREG(kind):
                with open(path, "rb") as fh:
                    detail = hashlib.sha256(fh.read()).hexdigest()
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISLNK(kind):
                detail = os.readlink(path)
            elif stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
                detail = (os.major(st.st_rdev), os.minor(st.st_rdev))
            mtime = st.st_mtime_ns // 1_000_000_000 if mtimes and not stat.S_ISDIR(kind) else None
            entries[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, detail,
                            tuple(_xattrs(path).items()), mtime)
    groups = {frozenset(paths) for paths in inodes.values() if len(paths) > 1}
    return entries, groups


def differences(a: dict[str, tuple], b: dict[str, tuple], limit: int = 20) -> list[str]:
    """Readable differences between two describe() maps."""
    out = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            out.append(f"{path}: {a.get(path)} != {b.get(path)}")
            if len(out) >= limit:
                break
    return out
