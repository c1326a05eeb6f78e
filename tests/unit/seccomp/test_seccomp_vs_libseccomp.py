"""Differential: our filters against libseccomp 2.5's, driven the way runc drives it.

libseccomp only generates (seccomp_export_bpf); nothing is loaded, so this needs no root. Both
programs run in the test interpreter over every syscall the profile names plus edge numbers,
on x86_64, x32 and i386, with argument vectors around the 32-bit word boundary.
"""

from __future__ import annotations

import pytest
import seccomp_random
import seccomp_reference
from pyrunc.linux import seccomp as S
from pyrunc.linux import syscall_tables
from seccomp_bpf_interp import decode, run
from seccomp_profiles import have_podman_profile, podman_default

pytestmark = pytest.mark.skipif(not seccomp_reference.available(),
                                reason="libseccomp.so.2 is not installed")
ABIS = ((S.AUDIT_ARCH_X86_64, "x86_64"), (S.AUDIT_ARCH_X86_64, "x32"),
        (S.AUDIT_ARCH_I386, "i386"))


def assert_same_decisions(profile: dict, numbers_per_abi: dict | None = None) -> int:
    reference = seccomp_reference.RuncReference(profile)
    ours = decode(S.compile_filter(profile, "x86_64"))
    names = {n for entry in profile.get("syscalls") or () for n in entry["names"]}
    checked = 0
    for audit, abi in ABIS:
        table = syscall_tables.syscalls(abi)
        if numbers_per_abi is not None:
            numbers = numbers_per_abi[abi]
        else:
            numbers = {table[n] for n in names if n in table}
        numbers = sorted(set(numbers) | {0, max(table.values()) + 1, 0xFFFFFFFF, 0x3FFFFFFF})
        if abi == "i386":
            numbers.append(table["socketcall"])
        for nr in numbers:
            for args in seccomp_random.ARG_VECTORS:
                expected = reference.decide(audit, nr, args)
                got = run(ours, audit, nr, args)
                assert got == expected, (abi, nr, args, hex(expected), hex(got))
                checked += 1
    return checked


def accepted_by_libseccomp(profile: dict) -> tuple[dict, list[str]]:
    """``profile`` without the rules libseccomp refuses (EEXIST on some conflicting rules; runc
    would fail the create), and those refusals."""
    refused = []
    while True:
        try:
            seccomp_reference.RuncReference(profile)
            return profile, refused
        except seccomp_reference.LibseccompRefused as err:
            if err.entry is None:
                raise
            refused.append(str(err))
            entries = [dict(e) for e in profile["syscalls"]]
            entries[err.entry]["names"] = [n for n in entries[err.entry]["names"]
                                           if n != err.name]
            profile = {**profile, "syscalls": [e for e in entries if e["names"]]}


@pytest.mark.parametrize("seed", range(40))
def test_random_profiles(seed):
    profile = seccomp_random.profile(seed)
    accepted, refused = accepted_by_libseccomp(profile)
    if refused:
        # pyrunc evaluates such conflicts exactly (pyrunc/linux/seccomp.py) instead of refusing
        assert decode(S.compile_filter(profile, "x86_64")), refused
    assert assert_same_decisions(accepted) > 0


@pytest.mark.skipif(not have_podman_profile(), reason="podman's seccomp.json is not installed")
def test_podman_default_profile_every_syscall_number():
    profile = podman_default()
    numbers = {abi: set(syscall_tables.syscalls(abi).values()) for _, abi in ABIS}
    assert assert_same_decisions(profile, numbers) > 8000
