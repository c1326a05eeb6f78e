"""compile_filter: decisions checked by running the BPF in a test-only interpreter."""

from __future__ import annotations

import errno

import pytest
from pyrunc.errors import SeccompError
from pyrunc.linux import seccomp as S
from pyrunc.linux import seccomp_bpf as bpf
from pyrunc.linux import syscall_tables
from seccomp_bpf_interp import decode, run
from seccomp_profiles import have_podman_profile, podman_default

X64 = S.AUDIT_ARCH_X86_64
I386 = S.AUDIT_ARCH_I386
AARCH64 = S.AUDIT_ARCH_AARCH64
ARM = S.AUDIT_ARCH_ARM
NR64 = syscall_tables.syscalls("x86_64")
NR32 = syscall_tables.syscalls("i386")
NRX32 = syscall_tables.syscalls("x32")
NRA64 = syscall_tables.syscalls("aarch64")
NRARM = syscall_tables.syscalls("arm")
ALLOW = S.RET_ALLOW
EPERM = S.RET_ERRNO | errno.EPERM
ENOSYS = S.RET_ERRNO | errno.ENOSYS
KILL_PROCESS = S.RET_KILL_PROCESS


def profile(*syscalls: dict, default: str = "SCMP_ACT_ALLOW", arches=None, **extra) -> dict:
    result = {"defaultAction": default, "syscalls": list(syscalls), **extra}
    if arches is not None:
        result["architectures"] = arches
    return result


def rule(names, action="SCMP_ACT_ERRNO", args=None, errno_ret=None) -> dict:
    out = {"names": [names] if isinstance(names, str) else list(names), "action": action}
    if args:
        out["args"] = args
    if errno_ret is not None:
        out["errnoRet"] = errno_ret
    return out


def arg(index: int, op: str, value: int, value_two: int = 0) -> dict:
    return {"index": index, "op": f"SCMP_CMP_{op}", "value": value, "valueTwo": value_two}


def decide(prog: bytes, name: str, args=(), abi: str = "x86_64") -> int:
    audit = {"x86_64": X64, "x32": X64, "i386": I386, "aarch64": AARCH64, "arm": ARM}[abi]
    return run(prog, audit, syscall_tables.syscalls(abi)[name], args)


def compile_x64(prof: dict) -> bytes:
    prog = S.compile_filter(prof, "x86_64")
    decode(prog)  # verifier-like checks on every program the tests build
    return prog


# -- actions ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "errno_ret", "expected"), [
    ("SCMP_ACT_KILL", None, S.RET_KILL_THREAD),
    ("SCMP_ACT_KILL_THREAD", None, S.RET_KILL_THREAD),
    ("SCMP_ACT_KILL_PROCESS", None, S.RET_KILL_PROCESS),
    ("SCMP_ACT_TRAP", None, S.RET_TRAP),
    ("SCMP_ACT_ERRNO", None, S.RET_ERRNO | errno.EPERM),
    ("SCMP_ACT_ERRNO", errno.EACCES, S.RET_ERRNO | errno.EACCES),
    ("SCMP_ACT_TRACE", None, S.RET_TRACE | errno.EPERM),  # runc's default trace message
    ("SCMP_ACT_TRACE", 1234, S.RET_TRACE | 1234),
    ("SCMP_ACT_LOG", None, S.RET_LOG),
])
def test_every_action_of_a_rule(action, errno_ret, expected):
    prog = compile_x64(profile(rule("mkdir", action, errno_ret=errno_ret)))
    assert decide(prog, "mkdir") == expected
    assert decide(prog, "getpid") == ALLOW


@pytest.mark.parametrize(("default", "errno_ret", "expected"), [
    ("SCMP_ACT_ERRNO", None, EPERM),
    ("SCMP_ACT_ERRNO", errno.ENOSYS, ENOSYS),
    ("SCMP_ACT_KILL_PROCESS", None, KILL_PROCESS),
    ("SCMP_ACT_LOG", None, S.RET_LOG),
    ("SCMP_ACT_TRAP", None, S.RET_TRAP),
])
def test_default_action_and_errno(default, errno_ret, expected):
    extra = {} if errno_ret is None else {"defaultErrnoRet": errno_ret}
    prog = compile_x64(profile(rule(["read", "write"], "SCMP_ACT_ALLOW"), default=default,
                               **extra))
    assert decide(prog, "read") == ALLOW
    assert decide(prog, "getppid") == expected  # below the highest listed number: no ENOSYS


@pytest.mark.parametrize("bad", [
    {"defaultAction": "SCMP_ACT_NOTIFY"},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule("read", "SCMP_ACT_NOTIFY")]},
    {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"},
    {"defaultAction": "SCMP_ACT_BOGUS"},
    {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000},
    {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1},
    {"syscalls": []},
    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]},
    {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule("read", args=[arg(6, "EQ", 1)])]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule("read", args=[arg(0, "BOGUS", 1)])]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule("read", args=[arg(0, "EQ", 2**64)])]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "x"}]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ["read"]},
])
def test_invalid_or_unsupported_profiles_are_clear_errors(bad):
    with pytest.raises(SeccompError, match=r"^seccomp: "):
        S.compile_filter(bad, "x86_64")


def test_notify_error_says_not_supported():
    with pytest.raises(SeccompError, match="SCMP_ACT_NOTIFY is not supported"):
        S.compile_filter(profile(rule("read", "SCMP_ACT_NOTIFY")), "x86_64")


def test_unknown_syscall_names_are_skipped():
    prog = compile_x64(profile(rule(["no_such_syscall", "getpid"], "SCMP_ACT_ALLOW"),
                               default="SCMP_ACT_ERRNO"))
    assert decide(prog, "getpid") == ALLOW


def test_a_name_applies_on_each_abi_that_has_it():
    prof = profile(rule(["arch_prctl", "socketcall", "getpid"], "SCMP_ACT_LOG"),
                   arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    prog = compile_x64(prof)
    assert decide(prog, "arch_prctl") == S.RET_LOG
    assert decide(prog, "socketcall", abi="i386") == S.RET_LOG
    assert decide(prog, "getpid", abi="i386") == S.RET_LOG
    assert decide(prog, "read", abi="i386") == ALLOW


# -- architectures ---------------------------------------------------------------------------

def test_foreign_architecture_gets_the_bad_arch_action():
    prog = compile_x64(profile(arches=["SCMP_ARCH_X86_64"]))
    assert run(prog, AARCH64, 63) == KILL_PROCESS
    assert run(prog, I386, 20) == KILL_PROCESS  # i386 not listed
    assert run(prog, X64, NR64["getpid"]) == ALLOW


def test_native_architecture_is_always_filtered():
    prog = compile_x64(profile(rule("getpid"), arches=["SCMP_ARCH_X86"]))
    assert decide(prog, "getpid") == EPERM
    assert decide(prog, "getpid", abi="i386") == EPERM


def test_architectures_that_cannot_run_here_are_ignored():
    prog = compile_x64(profile(rule("getpid"), arches=["SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390X",
                                                       "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]))
    assert decide(prog, "getpid") == EPERM
    assert run(prog, AARCH64, NRA64["getpid"]) == KILL_PROCESS


def test_x32_calls_need_the_x32_architecture():
    without = compile_x64(profile(rule("getpid"), arches=["SCMP_ARCH_X86_64"]))
    assert run(without, X64, NRX32["getpid"]) == KILL_PROCESS
    assert run(without, X64, 0xFFFFFFFF) == ALLOW  # nr -1 (tracer skip): default, as libseccomp
    with_x32 = compile_x64(profile(rule("getpid"), arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]))
    assert run(with_x32, X64, NRX32["getpid"]) == EPERM
    assert run(with_x32, X64, NRX32["read"]) == ALLOW
    assert run(with_x32, X64, NR64["getpid"]) == EPERM


def test_i386_numbers_come_from_the_i386_table():
    prog = compile_x64(profile(rule("getpid"), arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]))
    assert NR32["getpid"] != NR64["getpid"]
    assert run(prog, I386, NR32["getpid"]) == EPERM
    assert run(prog, I386, NR64["getpid"]) == ALLOW  # 39 is mkdir on i386


def test_aarch64_native_with_arm_compat():
    prof = profile(rule(["getpid", "set_tls"]), arches=["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
                                                         "SCMP_ARCH_X86_64"])
    prog = S.compile_filter(prof, "aarch64")
    decode(prog)
    assert run(prog, AARCH64, NRA64["getpid"]) == EPERM
    assert run(prog, AARCH64, NRA64["read"]) == ALLOW
    assert run(prog, ARM, NRARM["getpid"]) == EPERM
    assert run(prog, ARM, NRARM["set_tls"]) == EPERM
    assert run(prog, X64, NR64["getpid"]) == KILL_PROCESS


def test_32_bit_arm_native():
    prog = S.compile_filter(profile(rule("getpid")), "SCMP_ARCH_ARM")
    assert run(prog, ARM, NRARM["getpid"]) == EPERM
    assert run(prog, AARCH64, NRA64["getpid"]) == KILL_PROCESS


def test_unsupported_native_architecture():
    with pytest.raises(SeccompError, match="native architecture 'ppc64le' is not supported"):
        S.compile_filter(profile(), "ppc64le")


# -- argument conditions ---------------------------------------------------------------------

DATUMS = (0, 5, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x100000005, 0xFFFFFFFFFFFFFFFF)
ARG_VALUES = (0, 4, 5, 6, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x100000004,
              0x100000005, 0x100000006, 0x200000005, 0xFFFFFFFF00000005, 0xFFFFFFFFFFFFFFFF)
ORACLE = {
    "NE": lambda a, v, v2: a != v,
    "LT": lambda a, v, v2: a < v,
    "LE": lambda a, v, v2: a <= v,
    "EQ": lambda a, v, v2: a == v,
    "GE": lambda a, v, v2: a >= v,
    "GT": lambda a, v, v2: a > v,
    "MASKED_EQ": lambda a, v, v2: (a & v) == (v2 & v),
}


@pytest.mark.parametrize("op", sorted(ORACLE))
@pytest.mark.parametrize("datum", DATUMS)
def test_every_operator_on_full_64_bit_arguments(op, datum):
    value_two = 0x100000005 if op == "MASKED_EQ" else 0
    prog = compile_x64(profile(rule("personality", args=[arg(2, op, datum, value_two)],
                                    errno_ret=errno.EACCES)))
    for value in ARG_VALUES:
        expected = ORACLE[op](value, datum, value_two)
        got = decide(prog, "personality", (0, 0, value))
        assert got == (S.RET_ERRNO | errno.EACCES if expected else ALLOW), (op, datum, value)


@pytest.mark.parametrize("op", sorted(ORACLE))
def test_every_operator_on_32_bit_abis_compares_the_low_word(op):
    datum, value_two = 0x100000005, 0xFFFFFFFF00000005
    prof = profile(rule("personality", args=[arg(0, op, datum, value_two)]),
                   arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    prog = compile_x64(prof)
    for value in (0, 4, 5, 6, 0x80000000, 0xFFFFFFFF):
        expected = ORACLE[op](value, datum & 0xFFFFFFFF, value_two & 0xFFFFFFFF)
        got = decide(prog, "personality", (value,), abi="i386")
        assert got == (EPERM if expected else ALLOW), (op, value)


def test_masked_eq_on_the_high_word_only():
    mask = 0xFFFFFFFF00000000
    prog = compile_x64(profile(rule("mmap", args=[arg(1, "MASKED_EQ", mask, 0x700000000)]),
                               arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]))
    assert decide(prog, "mmap", (0, 0x7_1234_5678)) == EPERM
    assert decide(prog, "mmap", (0, 0x8_0000_0000)) == ALLOW
    # On i386 the condition masks out the whole low word: libseccomp drops it, so the rule
    # becomes unconditional.
    assert decide(prog, "mmap", (0, 1), abi="i386") == EPERM


def test_podman_style_clone_flags_mask():
    clone_new = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
    prog = compile_x64(profile(rule("clone", "SCMP_ACT_ALLOW",
                                    args=[arg(0, "MASKED_EQ", clone_new, 0)]),
                               default="SCMP_ACT_ERRNO"))
    assert decide(prog, "clone", (0x01200011,)) == ALLOW  # fork-like flags
    assert decide(prog, "clone", (0x10000000 | 17,)) == EPERM  # CLONE_NEWUSER


def test_conditions_of_one_rule_are_anded():
    prog = compile_x64(profile(rule("socket", args=[arg(0, "EQ", 16), arg(2, "EQ", 9)])))
    assert decide(prog, "socket", (16, 3, 9)) == EPERM
    assert decide(prog, "socket", (16, 3, 0)) == ALLOW
    assert decide(prog, "socket", (2, 1, 9)) == ALLOW


def test_conditions_on_the_same_argument_become_separate_rules_like_runc():
    prog = compile_x64(profile(rule("personality", args=[arg(0, "EQ", 8), arg(0, "EQ", 0x20000)])))
    assert decide(prog, "personality", (8,)) == EPERM
    assert decide(prog, "personality", (0x20000,)) == EPERM
    assert decide(prog, "personality", (0,)) == ALLOW


def test_several_rules_for_one_syscall_are_ored():
    prog = compile_x64(profile(
        rule("personality", "SCMP_ACT_ALLOW", args=[arg(0, "EQ", 0)]),
        rule("personality", "SCMP_ACT_ALLOW", args=[arg(0, "EQ", 8)]),
        rule("personality", "SCMP_ACT_ALLOW", args=[arg(0, "EQ", 0xFFFFFFFF)]),
        default="SCMP_ACT_ERRNO"))
    for value, expected in ((0, ALLOW), (8, ALLOW), (0xFFFFFFFF, ALLOW), (1, EPERM),
                            (0x1FFFFFFFF, EPERM)):
        assert decide(prog, "personality", (value,)) == expected


def test_several_range_rules_are_an_exact_or():
    # libseccomp 2.5 merges these two rules imprecisely and lets (5, 0xffffffff) match; the
    # compiled filter evaluates the OR exactly.
    prog = compile_x64(profile(
        rule("timer_gettime", "SCMP_ACT_LOG", args=[arg(1, "LE", 5), arg(0, "GE", 5)]),
        rule("timer_gettime", "SCMP_ACT_LOG", args=[arg(1, "LE", 0xFFFFFFFF),
                                                     arg(0, "GE", 0x80000000)]),
        default="SCMP_ACT_TRAP"))
    assert decide(prog, "timer_gettime", (5, 0xFFFFFFFF)) == S.RET_TRAP
    assert decide(prog, "timer_gettime", (5, 5)) == S.RET_LOG
    assert decide(prog, "timer_gettime", (0x80000000, 0xFFFFFFFF)) == S.RET_LOG


# -- conflicts and precedence ----------------------------------------------------------------

def test_most_restrictive_matching_conditional_rule_wins():
    prog = compile_x64(profile(
        rule("kill", "SCMP_ACT_ALLOW", args=[arg(1, "GE", 0)]),
        rule("kill", "SCMP_ACT_LOG", args=[arg(1, "GE", 2)]),
        rule("kill", "SCMP_ACT_ERRNO", args=[arg(1, "GE", 9)], errno_ret=errno.EACCES),
        rule("kill", "SCMP_ACT_TRAP", args=[arg(1, "GE", 15)]),
        rule("kill", "SCMP_ACT_KILL_THREAD", args=[arg(1, "GE", 19)]),
        rule("kill", "SCMP_ACT_KILL_PROCESS", args=[arg(1, "GE", 30)]),
        default="SCMP_ACT_ERRNO"))
    expected = {0: ALLOW, 2: S.RET_LOG, 9: S.RET_ERRNO | errno.EACCES, 15: S.RET_TRAP,
                19: S.RET_KILL_THREAD, 30: KILL_PROCESS}
    for sig, action in expected.items():
        assert decide(prog, "kill", (1, sig)) == action


def test_equal_actions_first_listed_wins():
    prog = compile_x64(profile(
        rule("kill", args=[arg(1, "EQ", 9)], errno_ret=errno.EACCES),
        rule("kill", args=[arg(0, "EQ", 1)], errno_ret=errno.EINVAL)))
    assert decide(prog, "kill", (1, 9)) == S.RET_ERRNO | errno.EACCES
    assert decide(prog, "kill", (1, 15)) == S.RET_ERRNO | errno.EINVAL


def test_first_unconditional_rule_decides_the_syscall():
    prog = compile_x64(profile(
        rule("mkdir", "SCMP_ACT_LOG", args=[arg(1, "EQ", 0o700)]),
        rule("mkdir", "SCMP_ACT_ERRNO", errno_ret=errno.EACCES),
        rule("mkdir", "SCMP_ACT_KILL_PROCESS"),
        rule("mkdir", "SCMP_ACT_TRAP", args=[arg(1, "EQ", 0o755)]),
        default="SCMP_ACT_ERRNO"))
    for mode in (0o700, 0o755, 0):
        assert decide(prog, "mkdir", (0, mode)) == S.RET_ERRNO | errno.EACCES


def test_rules_equal_to_the_default_action_are_dropped_like_runc():
    prog = compile_x64(profile(rule("mkdir", "SCMP_ACT_ERRNO"), rule("mkdir", "SCMP_ACT_ALLOW"),
                               default="SCMP_ACT_ERRNO"))
    assert decide(prog, "mkdir") == ALLOW
    other_errno = compile_x64(profile(rule("mkdir", "SCMP_ACT_ERRNO", errno_ret=errno.EACCES),
                                      rule("mkdir", "SCMP_ACT_ALLOW"), default="SCMP_ACT_ERRNO"))
    assert decide(other_errno, "mkdir") == S.RET_ERRNO | errno.EACCES


# -- runc's ENOSYS stub ----------------------------------------------------------------------

def test_syscalls_newer_than_the_profile_get_enosys():
    prof = profile(rule(["read", "openat"], "SCMP_ACT_ALLOW"), default="SCMP_ACT_ERRNO",
                   arches=["SCMP_ARCH_X86_64"])
    prog = compile_x64(prof)
    assert decide(prog, "clone3") == ENOSYS
    assert decide(prog, "mkdir") == EPERM  # older than openat: the default action
    assert run(prog, X64, NR64["openat"] + 1) == ENOSYS


@pytest.mark.parametrize("extra", [
    {"defaultAction": "SCMP_ACT_ALLOW"},
    {"defaultAction": "SCMP_ACT_LOG"},
    {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": errno.ENOSYS},
    {"defaultAction": "SCMP_ACT_ERRNO", "architectures": []},
])
def test_no_enosys_stub(extra):
    prof = {"architectures": ["SCMP_ARCH_X86_64"], "syscalls": [rule("read", "SCMP_ACT_TRAP")],
            **extra}
    prog = compile_x64(prof)
    default = S.action_value(prof["defaultAction"], prof.get("defaultErrnoRet"))
    assert decide(prog, "clone3") == default


def test_enosys_bound_is_per_abi():
    prof = profile(rule(["read", "clone3"], "SCMP_ACT_ALLOW"), rule("getpid"),
                   default="SCMP_ACT_KILL_PROCESS",
                   arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    prog = compile_x64(prof)
    assert run(prog, X64, NR64["clone3"] + 1) == ENOSYS
    assert run(prog, X64, NR64["mkdir"]) == KILL_PROCESS
    assert run(prog, I386, NR32["clone3"] + 1) == ENOSYS
    assert run(prog, X64, NRX32["clone3"] + 1) == ENOSYS
    assert run(prog, X64, NRX32["getpid"]) == EPERM


# -- i386 multiplexed socket and IPC calls ---------------------------------------------------

def test_i386_socketcall_and_ipc_forms_are_covered():
    socketcall, ipc = syscall_tables.multiplexed_i386()
    prof = profile(rule("socket", args=[arg(0, "EQ", 2)], errno_ret=errno.EACCES),
                   rule("shmget", errno_ret=errno.ENOSPC),
                   arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    prog = compile_x64(prof)
    eacces, enospc = S.RET_ERRNO | errno.EACCES, S.RET_ERRNO | errno.ENOSPC
    assert decide(prog, "socket", (2, 1, 0)) == eacces
    assert decide(prog, "socket", (10, 1, 0)) == ALLOW
    assert decide(prog, "socket", (2, 1, 0), abi="i386") == eacces
    assert decide(prog, "socketcall", (socketcall["socket"], 0xBFFF0000), abi="i386") == eacces
    assert decide(prog, "socketcall", (socketcall["bind"], 0xBFFF0000), abi="i386") == ALLOW
    assert decide(prog, "shmget", abi="i386") == enospc
    assert decide(prog, "ipc", (ipc["shmget"],), abi="i386") == enospc
    assert decide(prog, "ipc", (ipc["semop"],), abi="i386") == ALLOW


# -- program shape ---------------------------------------------------------------------------

def _jump_distances(prog: bytes) -> list[int]:
    return [k for code, jt, jf, k in decode(prog) if code == bpf.JA]


def test_long_jumps_in_a_big_dispatch():
    names = sorted(NR64, key=NR64.get)[:300]
    calls = [rule(name, "SCMP_ACT_ERRNO", args=[arg(0, "EQ", i), arg(1, "GT", 0x100000000 + i)],
                  errno_ret=i % 4000 + 1) for i, name in enumerate(names)]
    prog = compile_x64(profile(*calls, arches=["SCMP_ARCH_X86_64"]))
    assert len(prog) // 8 > 3000
    assert max(_jump_distances(prog)) > 255
    for i, name in enumerate(names):
        assert decide(prog, name, (i, 0x100000001 + i)) == S.RET_ERRNO | (i % 4000 + 1)
        assert decide(prog, name, (i, 0x100000000 + i)) == ALLOW
        assert decide(prog, name, (i + 1, 0x100000001 + i)) == ALLOW


def test_long_jumps_in_one_long_rule_chain():
    calls = [rule("ioctl", "SCMP_ACT_ERRNO", args=[arg(1, "EQ", 0x5400 + i)], errno_ret=i + 1)
             for i in range(150)]
    prog = compile_x64(profile(*calls, arches=["SCMP_ARCH_X86_64"]))
    assert max(_jump_distances(prog)) > 255
    for i in (0, 1, 75, 148, 149):
        assert decide(prog, "ioctl", (3, 0x5400 + i)) == S.RET_ERRNO | (i + 1)
    assert decide(prog, "ioctl", (3, 0x5400 + 150)) == ALLOW


def test_too_long_program_is_refused():
    calls = [rule("ioctl", args=[arg(1, "GT", 0x100000000 + i), arg(2, "LT", i)])
             for i in range(600)]
    with pytest.raises(SeccompError, match="kernel's limit of 4096"):
        S.compile_filter(profile(*calls), "x86_64")


def test_output_is_deterministic():
    prof = profile(rule(["read", "write"], "SCMP_ACT_ALLOW"),
                   rule("socket", args=[arg(0, "EQ", 2)]),
                   default="SCMP_ACT_ERRNO", arches=list(S.RUNNABLE["SCMP_ARCH_X86_64"]))
    assert S.compile_filter(prof, "x86_64") == S.compile_filter(dict(prof), "x86_64")


def test_program_starts_with_the_arch_check():
    insns = decode(compile_x64(profile(rule("read"))))
    assert insns[0] == (bpf.LD_W_ABS, 0, 0, 4)
    assert insns[1][0] == bpf.JEQ and insns[1][3] == X64


# -- flags -----------------------------------------------------------------------------------

def test_flags():
    allow = {"defaultAction": "SCMP_ACT_ALLOW"}
    assert S.filter_flags(allow) == 0
    assert S.filter_flags({**allow, "flags": ["SECCOMP_FILTER_FLAG_TSYNC"]}) == 1
    assert S.filter_flags({**allow, "flags": ["SECCOMP_FILTER_FLAG_LOG",
                                              "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}) == 6
    with pytest.raises(SeccompError, match="flag 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'"):
        S.filter_flags({**allow, "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})


# -- podman's default profile ----------------------------------------------------------------

@pytest.mark.skipif(not have_podman_profile(), reason="podman's seccomp.json is not installed")
def test_podman_default_profile_decisions():
    prog = compile_x64(podman_default())
    assert decide(prog, "read") == ALLOW
    assert decide(prog, "personality", (0,)) == ALLOW
    assert decide(prog, "personality", (0xFFFFFFFF,)) == ALLOW
    assert decide(prog, "personality", (1,)) == ENOSYS  # defaultErrnoRet 38
    assert decide(prog, "socket", (16, 3, 9)) == S.RET_ERRNO | errno.EINVAL  # NETLINK_AUDIT
    assert decide(prog, "socket", (2, 1, 0)) == ALLOW
    assert decide(prog, "kexec_load") == EPERM
    assert decide(prog, "bpf") == EPERM  # no CAP_SYS_ADMIN
    assert decide(prog, "read", abi="i386") == ALLOW
    assert decide(prog, "read", abi="x32") == ALLOW
    assert run(prog, AARCH64, 63) == KILL_PROCESS


def test_a_rule_with_more_conditions_than_an_earlier_one_is_absorbed():
    # libseccomp prunes the longer rule: the earlier, broader rule decides.
    prog = compile_x64(profile(
        rule("kill", "SCMP_ACT_ALLOW", args=[arg(0, "EQ", 1)]),
        rule("kill", "SCMP_ACT_KILL_PROCESS", args=[arg(0, "EQ", 1), arg(1, "EQ", 15)]),
        rule("kill", "SCMP_ACT_TRAP", args=[arg(1, "EQ", 9)]),
        default="SCMP_ACT_ERRNO"))
    assert decide(prog, "kill", (1, 15)) == ALLOW
    # (1, 9) matches the ALLOW rule and the unrelated TRAP rule: the more restrictive wins.
    assert decide(prog, "kill", (1, 9)) == S.RET_TRAP
    assert decide(prog, "kill", (2, 9)) == S.RET_TRAP
    assert decide(prog, "kill", (2, 15)) == EPERM


def test_32_bit_abis_see_values_truncated_when_resolving_conflicts():
    # On i386 both conditions are "arg0 == 5": the second rule is absorbed by the first.
    prof = profile(rule("kill", "SCMP_ACT_LOG", args=[arg(0, "EQ", 0x100000005)]),
                   rule("kill", "SCMP_ACT_TRAP", args=[arg(0, "EQ", 5)]),
                   arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    prog = compile_x64(prof)
    assert decide(prog, "kill", (5,), abi="i386") == S.RET_LOG
    assert decide(prog, "kill", (5,)) == S.RET_TRAP
    assert decide(prog, "kill", (0x100000005,)) == S.RET_LOG


def test_runs_of_numbers_with_one_action_are_compiled_as_ranges():
    names = sorted(NR64, key=NR64.get)[:200]
    prog = compile_x64(profile(rule(names, "SCMP_ACT_ALLOW"), default="SCMP_ACT_ERRNO",
                               arches=["SCMP_ARCH_X86_64"]))
    assert len(prog) // 8 < 40
    for name in names:
        assert decide(prog, name) == ALLOW
    beyond = max(NR64[n] for n in names) + 1
    assert run(prog, X64, beyond) == ENOSYS


@pytest.mark.parametrize("action", S.SUPPORTED_ACTIONS)
def test_every_advertised_action_compiles(action):
    prog = compile_x64(profile(rule("mkdir", action), default="SCMP_ACT_ALLOW"))
    assert decide(prog, "mkdir") == S.action_value(action)
    assert decide(prog, "rmdir") == ALLOW
