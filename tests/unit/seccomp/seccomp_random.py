"""Random OCI seccomp profiles for differential tests against libseccomp.

The generator stays inside the part of the semantics where libseccomp 2.5 is exact: conditional
rules of one syscall share one action, several conditional rules of one syscall use only EQ, NE
and MASKED_EQ (one operator per argument index), and range comparisons (LT, LE, GE, GT) go to
syscalls with a single conditional rule. libseccomp's rule-tree merge is imprecise outside it
(see test_seccomp_compile.test_several_range_rules_are_an_exact_or).
"""

from __future__ import annotations

import random

from pyrunc.linux import syscall_tables

OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
       "SCMP_CMP_MASKED_EQ")
EQUALITY_OPS = ("SCMP_CMP_NE", "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ")
VALUES = (0, 1, 2, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x100000005, 0x1FFFFFFFF,
          0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFF)
ACTIONS = ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
           "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_KILL")
ARCHES = ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
# Argument vectors that straddle the 32-bit word boundary and the comparison datums above.
ARG_VECTORS = (
    (), (1, 2), (5, 0xFFFFFFFF, 0x100000005), (0x100000005, 5),
    (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF, 0x80000000), (0x80000000, 1, 0x100000000),
    (0x7FFFFFFF, 0x1FFFFFFFF, 2), (0xFFFFFFFF00000000, 0, 0xFFFFFFFFFFFFFFFF),
)


def _action(rng: random.Random) -> dict:
    action = rng.choice(ACTIONS)
    out = {"action": action}
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE") and rng.random() < 0.7:
        out["errnoRet"] = rng.choice((1, 13, 22, 38, 95))
    return out


def profile(seed: int) -> dict:
    rng = random.Random(seed)
    names = sorted(set(syscall_tables.syscalls("x86_64"))
                   | {"socketcall", "ipc", "send", "recv", "not_a_syscall"})
    default = _action(rng)
    result: dict = {"defaultAction": default["action"],
                    "architectures": rng.sample(ARCHES, rng.randint(0, len(ARCHES)))}
    if "errnoRet" in default:
        result["defaultErrnoRet"] = default["errnoRet"]
    conditional_action: dict[str, object] = {}
    index_op: dict[int, str] = {}
    calls = []
    for _ in range(rng.randint(1, 60)):
        pick = rng.sample(names, rng.randint(1, 8))
        entry = {"names": pick, **_action(rng)}
        if rng.random() < 0.5:
            key = (entry["action"], entry.get("errnoRet"))
            ranged = rng.random() < 0.4
            if ranged:
                pick = [n for n in pick if n not in conditional_action]
                conditional_action.update(dict.fromkeys(pick, "closed"))
            else:
                pick = [n for n in pick if conditional_action.setdefault(n, key) == key]
            if not pick:
                continue
            entry["names"] = pick
            args = []
            for index in rng.sample(range(3), rng.randint(1, 3)):
                if ranged:
                    op = rng.choice(OPS)
                else:
                    op = index_op.setdefault(index, rng.choice(EQUALITY_OPS))
                args.append({"index": index, "value": rng.choice(VALUES),
                             "valueTwo": rng.choice(VALUES), "op": op})
            entry["args"] = args
        calls.append(entry)
    result["syscalls"] = calls
    return result
