"""Syscall tables: spot checks against well-known numbers, and the generator's --check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyrunc.linux import syscall_tables

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("abi", "name", "number"), [
    ("x86_64", "read", 0), ("x86_64", "execve", 59), ("x86_64", "mkdir", 83),
    ("x86_64", "seccomp", 317), ("x86_64", "clone3", 435),
    ("i386", "execve", 11), ("i386", "socketcall", 102), ("i386", "socket", 359),
    ("i386", "ipc", 117), ("i386", "clone3", 435),
    ("x32", "read", 0x40000000), ("x32", "execve", 0x40000000 + 520),
    ("x32", "rt_sigaction", 0x40000000 + 512),
    ("aarch64", "openat", 56), ("aarch64", "read", 63), ("aarch64", "execve", 221),
    ("aarch64", "setns", 268), ("aarch64", "fstat", 80), ("aarch64", "clone3", 435),
    ("arm", "execve", 11), ("arm", "socket", 281), ("arm", "set_tls", 0xF0005),
    ("arm", "cacheflush", 0xF0002),
])
def test_known_numbers(abi, name, number):
    assert syscall_tables.syscalls(abi)[name] == number


def test_abis_do_not_have_each_others_calls():
    assert "socketcall" not in syscall_tables.syscalls("x86_64")
    assert "arch_prctl" not in syscall_tables.syscalls("aarch64")
    assert "open" not in syscall_tables.syscalls("aarch64")
    assert "mkdir" not in syscall_tables.syscalls("aarch64")


def test_multiplexer_call_numbers():
    socketcall, ipc = syscall_tables.multiplexed_i386()
    assert socketcall["socket"] == 1 and socketcall["sendmmsg"] == 20
    assert ipc["semop"] == 1 and ipc["shmctl"] == 24


def test_unknown_abi():
    with pytest.raises(KeyError):
        syscall_tables.syscalls("mips")


@pytest.mark.skipif(not shutil.which("gcc")
                    or not os.path.exists("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
                    reason="gcc or the kernel headers are missing")
def test_checked_in_tables_match_the_headers():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen-syscall-tables"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
