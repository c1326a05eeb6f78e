"""Seeding: a new, empty volume mounted over an image directory gets that directory's content
(owners, modes and times kept), as docker copies it at create."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def _copy_attributes(st: os.stat_result, path: str) -> None:
    os.lchown(path, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(path, stat.S_IMODE(st.st_mode))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _copy_file(src: str, dst: str) -> None:
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                         os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd_in, "rb", closefd=False) as r, \
                    os.fdopen(fd_out, "wb", closefd=False) as w:
                shutil.copyfileobj(r, w, 1 << 20)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def copy_tree(src: str, dst: str) -> None:
    """Copy the entries of directory `src` into existing directory `dst`; symlinks are copied
    as links, never followed."""
    with os.scandir(src) as entries:
        for entry in entries:
            s, d = os.path.join(src, entry.name), os.path.join(dst, entry.name)
            st = entry.stat(follow_symlinks=False)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(d, 0o700)
                copy_tree(s, d)
            elif stat.S_ISREG(mode):
                _copy_file(s, d)
            elif stat.S_ISLNK(mode):
                os.symlink(os.readlink(s), d)
            elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                os.mknod(d, mode, st.st_rdev)
            else:  # sockets: nothing to copy
                continue
            _copy_attributes(st, d)


def seed(rootfs: Path, container_path: str, volume_data: Path) -> bool:
    """Fill `volume_data` from `container_path` of the mounted `rootfs` when that path is a
    directory (resolved inside the rootfs); whether anything was copied."""
    from pyengine.containers.rootfs import open_in_root

    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fd = open_in_root(root_fd, container_path)
        except OSError:
            return False  # missing there: the runtime creates the mount point
    finally:
        os.close(root_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):
            return False
        copy_tree(f"/proc/self/fd/{fd}", str(volume_data))
        _copy_attributes(st, str(volume_data))  # docker: the volume takes the directory's
        return True
    finally:
        os.close(fd)
