"""`docker diff`: the changes of a container's writable layer as A/C/D lines.

From an overlay upper directory: a whiteout (char 0:0) is a deletion; an opaque directory that
hid one of the image is a deletion of it (what it holds now is added below it); anything else
is added when no lower layer shows that path, changed otherwise. A directory the copy-up
brought up unchanged is not reported for itself, but the parent of an added or deleted path
always is (docker's rules). From a complete tree (the native snapshotter) the tree is compared
with its parent's. Sorted by path, component by component, a parent before its children.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyengine.archive.lowers import OPAQUE_XATTR, LowerLayers
from pyengine.containers.init_layer import MTAB_TARGET

ADDED, CHANGED, DELETED = "A", "C", "D"
# What the runtime creates in a rootfs to mount on, and docker's init layer (init_layer.py):
# docker keeps them in an "init" layer that diff and commit never show; left out while they
# are empty (and the mtab link while it points where the init layer made it point).
MOUNT_POINTS = frozenset({"etc/hostname", "etc/hosts", "etc/resolv.conf", "proc", "sys", "dev",
                          "dev/pts", "dev/shm", "dev/mqueue", "dev/console", "sys/fs/cgroup",
                          ".dockerenv"})
MTAB = "etc/mtab"


def runtime_mount_point(name: str, st: os.stat_result) -> bool:
    """Whether `name` (relative to the rootfs) is an empty mount point a runtime made, or an
    entry of docker's init layer."""
    name = name.strip("/")
    if name == MTAB:  # the symlink's size is its target's length
        return stat.S_ISLNK(st.st_mode) and st.st_size == len(MTAB_TARGET)
    if name not in MOUNT_POINTS:
        return False
    return (stat.S_ISREG(st.st_mode) and st.st_size == 0) or \
        (stat.S_ISDIR(st.st_mode) and st.st_nlink <= 2)


@dataclass(frozen=True)
class Change:
    kind: str  # A, C or D
    path: str  # absolute, inside the container


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _same_dir(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_mode, a.st_uid, a.st_gid, a.st_mtime_ns) == \
        (b.st_mode, b.st_uid, b.st_gid, b.st_mtime_ns)


def _same_entry(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_mode, a.st_uid, a.st_gid, a.st_size, a.st_mtime_ns, a.st_rdev) == \
        (b.st_mode, b.st_uid, b.st_gid, b.st_size, b.st_mtime_ns, b.st_rdev)


class _Recorder:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._dirs: set[str] = set()

    def record(self, kind: str, path: str, is_dir: bool) -> None:
        if kind in (ADDED, DELETED):
            parent = os.path.dirname(path)
            if parent != "/" and parent not in self._dirs:
                self.changes.append(Change(CHANGED, parent))
                self._dirs.add(parent)
        if is_dir:
            if path in self._dirs:
                return
            self._dirs.add(path)
        self.changes.append(Change(kind, path))


def _open_directory(top: Path, rel: str) -> int | None:
    """A descriptor of directory `rel` below `top`, opened component by component without
    following a symlink (a running container may swap a directory it owns for a link to the
    host's between our lstat and our listing); None when it is gone or no directory now."""
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        for part in (p for p in rel.split("/") if p):
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                            dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:  # gone, no directory now, or a symlink (ELOOP)
        os.close(fd)
        return None
    return fd


def _entries(top: Path, rel: str) -> list[tuple[str, os.stat_result]]:
    """(container path, lstat) of each entry of directory `rel` below `top`, sorted by name,
    read through a descriptor that followed no symlink; what a running container removes
    while it is read is left out (as docker's diff does) rather than failing the whole
    diff."""
    fd = _open_directory(top, rel)
    if fd is None:
        return []
    try:
        names = sorted(os.listdir(fd))
        out = []
        for name in names:
            try:
                out.append((f"{rel}/{name}", os.stat(name, dir_fd=fd, follow_symlinks=False)))
            except FileNotFoundError:
                continue
        return out
    finally:
        os.close(fd)


def _walk(top: Path) -> list[tuple[str, os.stat_result]]:
    """(container path, lstat) of everything below `top`: depth first, a directory before
    its entries, names sorted in each directory; iterative, so any depth works."""
    out: list[tuple[str, os.stat_result]] = []
    pending: list[str] = [""]
    while pending:
        rel = pending.pop()
        entries = _entries(top, rel)
        for child, st in entries:
            out.append((child, st))
        pending.extend(child for child, st in reversed(entries) if stat.S_ISDIR(st.st_mode))
    return out


def overlay_changes(upper: Path, lowers: Sequence[Path]) -> list[Change]:
    """The changes an overlay upper directory makes to its lower layers (nearest first)."""
    recorder = _Recorder()
    view = LowerLayers(lowers)
    try:
        for rel, st in _walk(upper):
            is_dir = stat.S_ISDIR(st.st_mode)
            if runtime_mount_point(rel, st) and view.find(os.fsencode(rel[1:])) is None:
                continue
            if _is_whiteout(st):
                recorder.record(DELETED, rel, False)
                continue
            found = view.find(os.fsencode(rel.lstrip("/")))
            if is_dir and _opaque(upper / rel.lstrip("/")) and found is not None:
                recorder.record(DELETED, rel, True)  # what it holds now comes as added
                continue
            if found is None:
                recorder.record(ADDED, rel, is_dir)
            elif not (is_dir and stat.S_ISDIR(found[1].st_mode) and _same_dir(st, found[1])):
                if is_dir and _only_mount_points(upper, rel, st, found[1], view):
                    continue
                recorder.record(CHANGED, rel, is_dir)
    finally:
        view.close()
    return _ordered(recorder.changes)


def _only_mount_points(upper: Path, rel: str, st: os.stat_result, lower: os.stat_result,
                       view: LowerLayers) -> bool:
    """Whether directory `rel` of the upper layer differs from the image's only by the mount
    points the runtime made in it (its mtime): docker keeps those in its init layer, so a
    fresh container's diff shows no "C /etc"."""
    if (st.st_mode, st.st_uid, st.st_gid) != (lower.st_mode, lower.st_uid, lower.st_gid):
        return False
    for child, child_st in _entries(upper, rel):
        if not runtime_mount_point(child, child_st) or \
                view.find(os.fsencode(child.lstrip("/"))) is not None:
            return False
    return True


def tree_changes(tree: Path, parent: Path | None) -> list[Change]:
    """The changes of a complete tree against its parent's complete tree (native driver)."""
    recorder = _Recorder()
    view = LowerLayers([parent] if parent is not None else [])
    try:
        _compare(tree, "", view, recorder)
    finally:
        view.close()
    return _ordered(recorder.changes)


def _compare(tree: Path, rel: str, view: LowerLayers, recorder: _Recorder) -> None:
    entries = _entries(tree, rel)
    names = {child.rpartition("/")[2] for child, _ in entries}
    before = {os.fsdecode(n) for n in view.names(os.fsencode(rel.lstrip("/")))}
    for name in sorted(before - names):
        recorder.record(DELETED, f"{rel}/{name}", False)
    for child, st in entries:
        found = view.find(os.fsencode(child.lstrip("/")))
        is_dir = stat.S_ISDIR(st.st_mode)
        if found is None:
            if not runtime_mount_point(child, st):
                recorder.record(ADDED, child, is_dir)
        elif is_dir and stat.S_ISDIR(found[1].st_mode):
            if not _same_dir(st, found[1]):
                recorder.record(CHANGED, child, True)
        elif not _same_entry(st, found[1]):
            recorder.record(CHANGED, child, False)
        if is_dir:
            _compare(tree, child, view, recorder)


def _ordered(changes: list[Change]) -> list[Change]:
    """Sorted by path component by component (a parent before its children), as docker
    prints them; a path both deleted and re-added keeps D before A."""
    rank = {DELETED: 0, CHANGED: 1, ADDED: 2}
    return sorted(changes, key=lambda c: (c.path.split("/"), rank[c.kind]))
