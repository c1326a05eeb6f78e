"""Resolve docker's `--user` forms against the image's /etc/passwd and /etc/group.

Accepted: "" (root), "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group".
Supplementary groups are the primary group, then the groups listing the user by name in
/etc/group, and those only when no group is given explicitly (the rule docker and runc share).
The files are read without following symlinks, so a rootfs cannot make us read host files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyengine.bundles.errors import UserNotFound

_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_FILE_SIZE = 16 << 20


@dataclass(frozen=True)
class ResolvedUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    home: str
    name: str | None


@dataclass(frozen=True)
class _Passwd:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class _Group:
    name: str
    gid: int
    members: tuple[str, ...]


def read_rootfs_file(rootfs: Path, relpath: str) -> str | None:
    """Contents of rootfs/relpath, or None if missing (or reached only through a symlink)."""
    parts = [p for p in relpath.split("/") if p]
    fd = os.open(rootfs, _NOFOLLOW_DIR)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, _NOFOLLOW_DIR, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    with os.fdopen(file_fd, "rb") as fh:
        return fh.read(MAX_FILE_SIZE).decode("utf-8", "replace")


def _passwd_entries(text: str | None) -> list[_Passwd]:
    entries = []
    for line in (text or "").splitlines():
        fields = line.strip().split(":")
        if len(fields) < 4 or line.startswith("#"):
            continue
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        home = fields[5] if len(fields) > 5 else ""
        entries.append(_Passwd(fields[0], uid, gid, home))
    return entries


def _group_entries(text: str | None) -> list[_Group]:
    entries = []
    for line in (text or "").splitlines():
        fields = line.strip().split(":")
        if len(fields) < 3 or line.startswith("#"):
            continue
        try:
            gid = int(fields[2])
        except ValueError:
            continue
        members = tuple(m for m in fields[3].split(",") if m) if len(fields) > 3 else ()
        entries.append(_Group(fields[0], gid, members))
    return entries


MAX_ID = 2**31 - 1  # the ids runc's user package takes


def added_groups(names: Sequence[str], groups: Sequence[_Group]) -> list[int]:
    """docker's --group-add: each entry a group of the image's /etc/group by name or by gid
    (the first match), else a number taken as is; each gid once, in order."""
    gids: list[int] = []
    for name in names:
        found = next((g.gid for g in groups if name in (g.name, str(g.gid))
                      and g.gid not in gids), None)
        if found is None:
            digits = name[1:] if name[:1] in ("+", "-") else name
            if not (digits.isascii() and digits.isdigit()):  # Go's strconv.Atoi's forms
                raise UserNotFound(f"Unable to find group {name}: no matching entries in "
                                   "group file")
            found = int(name)
            if not 0 <= found <= MAX_ID:
                raise UserNotFound(f"uids and gids must be in range 0-{MAX_ID}")
        if found not in gids:
            gids.append(found)
    return gids


def _in_range(number: int) -> int:
    """A numeric uid or gid as docker takes it (its error, at the start, otherwise)."""
    if number > MAX_ID:
        raise UserNotFound(f"uids and gids must be in range 0-{MAX_ID}")
    return number


def resolve_user(rootfs: Path, spec: str | None, group_add: Sequence[str] = ()
                 ) -> ResolvedUser:
    """The uid, gid, supplementary gids and home of `spec` inside `rootfs`; `group_add`'s
    groups (docker's --group-add) follow the user's own supplementary ones."""
    spec = spec or ""
    user_part, _, group_part = spec.partition(":")
    passwd = _passwd_entries(read_rootfs_file(rootfs, "etc/passwd"))
    groups = _group_entries(read_rootfs_file(rootfs, "etc/group"))

    entry: _Passwd | None = None
    if user_part == "":
        entry = next((p for p in passwd if p.uid == 0), None)
        uid, gid = 0, 0
    elif user_part.isascii() and user_part.isdigit():
        uid = _in_range(int(user_part))
        entry = next((p for p in passwd if p.uid == uid), None)
        gid = entry.gid if entry else 0
    else:
        entry = next((p for p in passwd if p.name == user_part), None)
        if entry is None:
            raise UserNotFound(
                f"unable to find user {user_part}: no matching entries in passwd file")
        uid, gid = entry.uid, entry.gid

    if group_part:
        if group_part.isascii() and group_part.isdigit():
            gid = _in_range(int(group_part))
        else:
            group = next((g for g in groups if g.name == group_part), None)
            if group is None:
                raise UserNotFound(
                    f"unable to find group {group_part}: no matching entries in group file")
            gid = group.gid

    # docker lists the primary group among the supplementary ones too (`id` in a container
    # prints "groups=0(root)" for root, "groups=3000" for -u 2000:3000)
    additional: list[int] = [gid]
    if entry is not None and not group_part:
        for group in groups:
            if entry.name in group.members and group.gid != gid and group.gid not in additional:
                additional.append(group.gid)
    additional += added_groups(group_add, groups)  # as docker: no merging with the above
    home = entry.home if entry and entry.home else "/"
    return ResolvedUser(uid, gid, tuple(additional), home, entry.name if entry else None)
