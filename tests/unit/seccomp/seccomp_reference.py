"""A test-only reference: what runc 1.1 + libseccomp 2.5 would install for an OCI profile.

Drives the system's libseccomp.so.2 through ctypes the way runc's libcontainer/seccomp does
(default action, extra architectures, one rule per syscall name, rules equal to the default
action skipped, same-argument conditions split into separate rules), exports the BPF without
loading it, and adds runc's -ENOSYS stub logic on top. Only the test suite uses libseccomp;
pyrunc itself does not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import tempfile

from pyrunc.linux import seccomp as S
from pyrunc.linux import syscall_tables
from seccomp_bpf_interp import decode, run

SCMP_FLTATR_ACT_BADARCH = 2
SCMP_FLTATR_CTL_NNP = 3
SCMP_FLTATR_CTL_OPTIMIZE = 8
SCMP_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
            "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
LIB_ARCH_NAMES = {"SCMP_ARCH_X86_64": b"x86_64", "SCMP_ARCH_X86": b"x86",
                  "SCMP_ARCH_X32": b"x32", "SCMP_ARCH_AARCH64": b"aarch64",
                  "SCMP_ARCH_ARM": b"arm"}


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


class LibseccompRefused(Exception):
    """libseccomp refused the profile (runc would fail the container create); for a refused
    rule, ``entry`` is its index in the profile's syscalls and ``name`` the syscall."""

    def __init__(self, message: str, entry: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry
        self.name = name


def _lib():
    path = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(path, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def available() -> bool:
    try:
        _lib()
    except OSError:
        return False
    return True


def libseccomp_program(profile: dict) -> bytes:
    """The BPF libseccomp generates for ``profile`` with runc's rule-adding logic (x86_64)."""
    lib = _lib()
    default = S.action_value(profile["defaultAction"], profile.get("defaultErrnoRet"))
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise LibseccompRefused("seccomp_init")
    try:
        for arch in profile.get("architectures") or ():
            token = lib.seccomp_arch_resolve_name(LIB_ARCH_NAMES[arch])
            rc = lib.seccomp_arch_add(ctx, token)
            if rc not in (0, -errno.EEXIST):
                raise LibseccompRefused(f"arch_add {arch}: {rc}")
        lib.seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, S.RET_KILL_PROCESS)
        lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        if len(profile.get("syscalls") or ()) > 32:
            lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        for index, entry in enumerate(profile.get("syscalls") or ()):
            action = S.action_value(entry["action"], entry.get("errnoRet"))
            if action == default:
                continue
            conds = [(a["index"], SCMP_OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0))
                     for a in entry.get("args") or ()]
            indexes = [c[0] for c in conds]
            groups = [[c] for c in conds] if len(set(indexes)) != len(indexes) else [conds]
            for name in entry["names"]:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == -1:  # __NR_SCMP_ERROR: unknown, runc skips it
                    continue
                for group in groups:
                    array = (ArgCmp * max(1, len(group)))(*[ArgCmp(*c) for c in group])
                    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(group), array)
                    if rc < 0:
                        raise LibseccompRefused(f"rule {name} {group}: {os.strerror(-rc)}",
                                                index, name)
        with tempfile.TemporaryFile() as out:
            rc = lib.seccomp_export_bpf(ctx, out.fileno())
            if rc < 0:
                raise LibseccompRefused(f"export: {os.strerror(-rc)}")
            out.seek(0)
            return out.read()
    finally:
        lib.seccomp_release(ctx)


class RuncReference:
    """Decisions of runc's filter: the -ENOSYS stub, then libseccomp's program."""

    def __init__(self, profile: dict) -> None:
        self.program = libseccomp_program(profile)
        self._insns = decode(self.program)
        default = S.action_value(profile["defaultAction"], profile.get("defaultErrnoRet"))
        exempt = (profile.get("defaultErrnoRet") == errno.ENOSYS
                  or default & S.RET_ACTION_FULL in (S.RET_ALLOW, S.RET_LOG, S.RET_TRACE))
        self.last: dict[str, int] = {}
        if not exempt:
            names = [n for e in profile.get("syscalls") or () for n in e["names"]]
            for arch in profile.get("architectures") or ():
                table = syscall_tables.syscalls(S.ARCHES[arch][0])
                known = [table[n] for n in names if n in table]
                if known:
                    self.last[arch] = max(known)

    def decide(self, audit: int, nr: int, args: tuple[int, ...] = ()) -> int:
        if audit == S.AUDIT_ARCH_X86_64:
            arch = "SCMP_ARCH_X32" if nr & S.X32_SYSCALL_BIT else "SCMP_ARCH_X86_64"
        else:
            arch = {S.AUDIT_ARCH_I386: "SCMP_ARCH_X86", S.AUDIT_ARCH_AARCH64: "SCMP_ARCH_AARCH64",
                    S.AUDIT_ARCH_ARM: "SCMP_ARCH_ARM"}.get(audit, "")
        last = self.last.get(arch)
        if last is not None and nr > last:
            return S.RET_ERRNO | errno.ENOSYS
        return run(self._insns, audit, nr, args)
