"""load_filter against a recording Syscalls double, and the module's import cost."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyrunc.errors import SeccompError
from pyrunc.linux import seccomp as S

RUNTIME = Path(__file__).resolve().parents[3] / "runtime"


class RecordingSyscalls:
    """Just enough of pyrunc.linux.syscalls.Syscalls for load_filter."""

    ctypes = ctypes

    def __init__(self, fail_errno: int = 0) -> None:
        self.calls: list[tuple[int, int, int, bytes]] = []
        self.fail_errno = fail_errno

    def seccomp(self, operation: int, flags: int, args) -> int:
        program = ctypes.string_at(args.filter, args.len * 8)
        self.calls.append((operation, flags, args.len, program))
        if self.fail_errno:
            raise OSError(self.fail_errno, os.strerror(self.fail_errno))
        return 0


def test_load_passes_the_program_and_flags():
    program = S.compile_filter({"defaultAction": "SCMP_ACT_ALLOW"}, "x86_64")
    sc = RecordingSyscalls()
    S.load_filter(program, S.FILTER_FLAG_TSYNC | S.FILTER_FLAG_LOG, sc=sc)
    assert sc.calls == [(1, 3, len(program) // 8, program)]


def test_load_refused_without_no_new_privs_says_what_to_do():
    program = S.compile_filter({"defaultAction": "SCMP_ACT_ALLOW"}, "x86_64")
    with pytest.raises(SeccompError, match=r"Permission denied .*no_new_privs"):
        S.load_filter(program, 0, sc=RecordingSyscalls(errno.EACCES))


def test_load_rejects_a_truncated_program():
    with pytest.raises(SeccompError, match="not a whole number of instructions"):
        S.load_filter(b"\0" * 12, 0, sc=RecordingSyscalls())
    with pytest.raises(SeccompError):
        S.load_filter(b"", 0, sc=RecordingSyscalls())


def test_import_pulls_no_heavy_modules():
    code = (f"import sys; sys.path.insert(0, {str(RUNTIME)!r}); import pyrunc.linux.seccomp as s; "
            "s.compile_filter({'defaultAction': 'SCMP_ACT_ALLOW', "
            "'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']}, 'x86_64'); "
            "print(sorted(m for m in ('re', 'json', 'ctypes', 'enum', 'subprocess', 'typing') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
