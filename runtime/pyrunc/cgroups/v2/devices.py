"""v2 devices: compile the rules to an eBPF program and attach it to the cgroup, replacing the
program a previous ``set``/``update`` attached (BPF_F_ALLOW_MULTI | BPF_F_REPLACE)."""

from __future__ import annotations

import os

from pyrunc.cgroups.devices import Rule
from pyrunc.cgroups.fs import cgroup_error
from pyrunc.cgroups.v2 import bpf
from pyrunc.cgroups.v2.ebpf import device_program
from pyrunc.errors import CgroupError
from pyrunc.linux.syscalls import SYS, Syscalls


def apply_rules(path: str, rules: list[Rule], sc: Syscalls | None = None) -> None:
    sc = sc or SYS
    try:
        prog_fd = bpf.prog_load(device_program(rules), sc)
    except OSError as err:
        raise CgroupError(f"cgroup: load device program for {path}: {err.strerror}") from None
    try:
        try:
            cgroup_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as err:
            raise cgroup_error("open", path, err) from None
        try:
            _attach_replacing(cgroup_fd, prog_fd, path, sc)
        finally:
            os.close(cgroup_fd)
    finally:
        os.close(prog_fd)


def _attach_replacing(cgroup_fd: int, prog_fd: int, path: str, sc: Syscalls) -> None:
    try:
        old_ids = bpf.prog_query(cgroup_fd, sc)
        if len(old_ids) == 1:
            old_fd = bpf.prog_fd_by_id(old_ids[0], sc)
            try:
                bpf.prog_attach(cgroup_fd, prog_fd, bpf.BPF_F_ALLOW_MULTI | bpf.BPF_F_REPLACE,
                                old_fd, sc)
            finally:
                os.close(old_fd)
            return
        # None or several: attach first (several programs must all allow: never laxer), then
        # detach the old ones.
        bpf.prog_attach(cgroup_fd, prog_fd, bpf.BPF_F_ALLOW_MULTI, 0, sc)
        for old_id in old_ids:
            old_fd = bpf.prog_fd_by_id(old_id, sc)
            try:
                bpf.prog_detach(cgroup_fd, old_fd, sc)
            finally:
                os.close(old_fd)
    except OSError as err:
        raise CgroupError(f"cgroup: attach device program to {path}: "
                          f"{os.strerror(err.errno or 0)}") from None


def attached_programs(path: str, sc: Syscalls | None = None) -> list[int]:
    """Ids of device programs attached to ``path`` (for tests and diagnostics)."""
    sc = sc or SYS
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return bpf.prog_query(fd, sc)
    finally:
        os.close(fd)
