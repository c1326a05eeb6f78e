"""bpf(2) commands for cgroup device programs, through the syscall seam (``sc.syscall``)."""

from __future__ import annotations

import os
import struct

from pyrunc.linux.syscalls import SYS, Syscalls

BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_PROG_QUERY = 16
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2
BPF_F_REPLACE = 4

_ATTR_SIZE = 128
LICENSE = b"Apache\0"


def _attr(sc: Syscalls, layout: str, *values: int):
    buf = sc.ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into(layout, buf, 0, *values)
    return buf


def prog_load(insns: bytes, sc: Syscalls = SYS) -> int:
    """Load a cgroup device program; on rejection the verifier log is in the OSError."""
    c = sc.ctypes
    code = c.create_string_buffer(insns, len(insns))
    license_ = c.create_string_buffer(LICENSE, len(LICENSE))
    count = len(insns) // 8
    attr = _attr(sc, "<IIQQIIQ", BPF_PROG_TYPE_CGROUP_DEVICE, count, c.addressof(code),
                 c.addressof(license_), 0, 0, 0)
    try:
        return sc.syscall("bpf", BPF_PROG_LOAD, attr, _ATTR_SIZE)
    except OSError as first:
        log = c.create_string_buffer(1 << 16)
        attr = _attr(sc, "<IIQQIIQ", BPF_PROG_TYPE_CGROUP_DEVICE, count, c.addressof(code),
                     c.addressof(license_), 1, len(log), c.addressof(log))
        try:
            return sc.syscall("bpf", BPF_PROG_LOAD, attr, _ATTR_SIZE)
        except OSError:
            text = log.value.decode(errors="replace").strip()
            raise OSError(first.errno, f"BPF_PROG_LOAD: {os.strerror(first.errno or 0)}"
                          f"{': ' + text if text else ''}") from None


def prog_attach(cgroup_fd: int, prog_fd: int, flags: int, replace_fd: int = 0,
                sc: Syscalls = SYS) -> None:
    attr = _attr(sc, "<IIIII", cgroup_fd, prog_fd, BPF_CGROUP_DEVICE, flags, replace_fd)
    sc.syscall("bpf", BPF_PROG_ATTACH, attr, _ATTR_SIZE)


def prog_detach(cgroup_fd: int, prog_fd: int, sc: Syscalls = SYS) -> None:
    attr = _attr(sc, "<IIIII", cgroup_fd, prog_fd, BPF_CGROUP_DEVICE, 0, 0)
    sc.syscall("bpf", BPF_PROG_DETACH, attr, _ATTR_SIZE)


def prog_query(cgroup_fd: int, sc: Syscalls = SYS, capacity: int = 64) -> list[int]:
    """Ids of the device programs attached directly to the cgroup."""
    c = sc.ctypes
    ids = (c.c_uint32 * capacity)()
    attr = _attr(sc, "<IIIIQI", cgroup_fd, BPF_CGROUP_DEVICE, 0, 0, c.addressof(ids), capacity)
    sc.syscall("bpf", BPF_PROG_QUERY, attr, _ATTR_SIZE)
    count = struct.unpack_from("<I", attr, 24)[0]
    return [ids[i] for i in range(min(count, capacity))]


def prog_fd_by_id(prog_id: int, sc: Syscalls = SYS) -> int:
    attr = _attr(sc, "<III", prog_id, 0, 0)
    return sc.syscall("bpf", BPF_PROG_GET_FD_BY_ID, attr, _ATTR_SIZE)
