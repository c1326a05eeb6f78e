"""Seeding: a new, empty volume mounted over an image directory gets that directory's content
(owners, modes and times kept), as docker copies it at create.

Everything is done relative to directory descriptors, never through paths, and nothing is
followed: a named volume may be in use by a running container while another container's
create seeds it, and that container could swap a directory the copy just made for a symlink
to anywhere on the host."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from pyengine.errors import EngineError

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _attributes_fd(st: os.stat_result, fd: int) -> None:
    os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _attributes_entry(st: os.stat_result, name: str, dir_fd: int) -> None:
    """A symlink's or special file's owner and times (its mode came with mknod); never
    followed."""
    os.chown(name, st.st_uid, st.st_gid, dir_fd=dir_fd, follow_symlinks=False)
    os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dir_fd, follow_symlinks=False)


def _copy_file(name: str, st: os.stat_result, src_dir: int, dst_dir: int) -> None:
    fd_in = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
    try:
        fd_out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                         os.O_CLOEXEC, 0o600, dir_fd=dst_dir)
        try:
            with os.fdopen(fd_in, "rb", closefd=False) as r, \
                    os.fdopen(fd_out, "wb", closefd=False) as w:
                shutil.copyfileobj(r, w, 1 << 20)
            _attributes_fd(st, fd_out)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def copy_dir(src_dir: int, dst_dir: int) -> None:
    """Copy the entries of directory `src_dir` into directory `dst_dir` (descriptors);
    symlinks are copied as links, never followed, on either side."""
    for name in os.listdir(src_dir):
        st = os.stat(name, dir_fd=src_dir, follow_symlinks=False)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(name, 0o700, dir_fd=dst_dir)
            child_src = os.open(name, _DIR, dir_fd=src_dir)
            try:
                child_dst = os.open(name, _DIR, dir_fd=dst_dir)  # ELOOP if swapped for a link
                try:
                    copy_dir(child_src, child_dst)
                    _attributes_fd(st, child_dst)
                finally:
                    os.close(child_dst)
            finally:
                os.close(child_src)
        elif stat.S_ISREG(mode):
            _copy_file(name, st, src_dir, dst_dir)
        elif stat.S_ISLNK(mode):
            os.symlink(os.readlink(name, dir_fd=src_dir), name, dir_fd=dst_dir)
            _attributes_entry(st, name, dst_dir)
        elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.mknod(name, mode, st.st_rdev, dir_fd=dst_dir)
            _attributes_entry(st, name, dst_dir)
        # sockets: nothing to copy


def seed(rootfs: Path, container_path: str, volume_data: Path) -> bool:
    """Fill `volume_data` from `container_path` of the mounted `rootfs` when that path is a
    directory (resolved inside the rootfs); whether anything was copied."""
    from pyengine.containers.rootfs import open_in_root

    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            found = open_in_root(root_fd, container_path)
        except OSError:
            return False  # missing there: the runtime creates the mount point
    finally:
        os.close(root_fd)
    try:
        if not stat.S_ISDIR(os.fstat(found).st_mode):
            return False
        # the O_PATH descriptor opened again for reading (its magic link must be followed)
        src = os.open(f"/proc/self/fd/{found}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    finally:
        os.close(found)
    try:
        dst = os.open(volume_data, _DIR)
        try:
            copy_dir(src, dst)
            _attributes_fd(os.fstat(src), dst)  # docker: the volume takes the directory's
        finally:
            os.close(dst)
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        raise EngineError(f"copy {container_path} of the image into volume {volume_data}"
                          f"{where}: {err.strerror or err}") from err
    finally:
        os.close(src)
    return True
