"""Compile an OCI ``linux.seccomp`` profile into a classic BPF program and load it.

Pure Python, no libseccomp. The generated filter follows runc 1.1 + libseccomp 2.5:

* The first check is the audit architecture; an architecture that is not in the filter gets
  :data:`BAD_ARCH_ACTION` (SECCOMP_RET_KILL_PROCESS; libseccomp's default is KILL, i.e. the
  thread, which ends a single-threaded process the same way). The native architecture is always
  filtered, plus every listed architecture that can run on it (x86_64: X86_64, X86, X32;
  aarch64: AARCH64, ARM). Listed architectures that cannot run on the native kernel are ignored
  (no syscall of theirs can ever reach this filter); names that are not OCI architectures raise
  :class:`SeccompError`.
* On x86_64 the x32 ABI (syscall numbers with bit 30 set) is a separate architecture: without
  SCMP_ARCH_X32 those calls get the bad-architecture action (except number -1, a tracer's
  "skip this call", which gets the default action as with libseccomp).
* Syscall names unknown to every filtered architecture are skipped, as runc does (it logs them
  at debug level and goes on); a name is applied on each architecture that has it.
* A rule whose action equals the default action is dropped (runc does the same).
* Conditions in one rule are ANDed; if two conditions of one rule name the same argument, each
  condition becomes its own rule (runc's compatibility behaviour). Several rules for one
  syscall are ORed. Values are full 64-bit on 64-bit ABIs (high and low word compared), the low
  32 bits on 32-bit ABIs (i386, x32, arm), as libseccomp does. MASKED_EQ is
  ``(arg & value) == (valueTwo & value)``.
* Conflicts (libseccomp documents rules as a union in which a broader rule absorbs a narrower
  one): the first unconditional rule for a syscall decides every call of it, whatever the other
  rules say (libseccomp keeps the first unconditional rule, drops later rules and replaces
  earlier conditional ones); a rule whose conditions include all the conditions of an earlier
  rule is absorbed by it. Among the remaining conditional rules that match the same call, the
  most restrictive action wins, in the kernel's order of precedence: KILL_PROCESS, KILL_THREAD,
  TRAP, ERRNO, TRACE, LOG, ALLOW (the first listed wins between equal actions). libseccomp
  itself has no documented rule for that last case: it refuses some such profiles (EEXIST,
  runc then fails) and merges others imprecisely; this compiler always evaluates them exactly.
* On i386, rules for the socket calls and SysV IPC calls also cover their socketcall(2)/ipc(2)
  multiplexed form (libseccomp's rewrite: argument 0 becomes the sub-call number).
* runc's -ENOSYS stub: for every listed architecture, syscall numbers above the highest one
  named in the profile return ENOSYS instead of the default action (so that newer syscalls such
  as clone3 make libc fall back), unless the default action is ALLOW, LOG or TRACE or the
  defaultErrnoRet is already ENOSYS.
* SCMP_ACT_NOTIFY (and listenerPath) is not supported: :class:`SeccompError`.

Program layout: load the arch and jump to its section (or return the bad-arch action); load the
syscall number (x86_64: split x32 off); the ENOSYS bound; a binary search over runs of syscall
numbers that share one unconditional action, down to leaves of a few range tests; per syscall
with conditions, its rules in order, each a chain of argument-word comparisons. The program is
built back to front (see :mod:`pyrunc.linux.seccomp_bpf`), so jumps longer than 255 go through
``ja``; more than 4096 instructions is an error.

Only little-endian ABIs are supported (x86, arm, aarch64), which is all the tables cover.
"""

from __future__ import annotations

import errno
import os

from pyrunc.errors import SeccompError
from pyrunc.linux import seccomp_bpf as bpf
from pyrunc.linux.syscalls import SECCOMP_SET_MODE_FILTER, SYS, Syscalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Seccomp, SeccompArg

# Filter return values (linux/seccomp.h).
RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
RET_ACTION_FULL = 0xFFFF0000
RET_DATA = 0x0000FFFF

BAD_ARCH_ACTION = RET_KILL_PROCESS

# The OCI actions compile_filter accepts (SCMP_ACT_NOTIFY is refused), for `features`.
SUPPORTED_ACTIONS = ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                     "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP")

# seccomp(2) SECCOMP_SET_MODE_FILTER flags.
FILTER_FLAG_TSYNC = 1
FILTER_FLAG_LOG = 2
FILTER_FLAG_SPEC_ALLOW = 4
SUPPORTED_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": FILTER_FLAG_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": FILTER_FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": FILTER_FLAG_SPEC_ALLOW,
}

# Audit architecture tokens (linux/audit.h): EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7
AUDIT_ARCH_ARM = 0x40000028
X32_SYSCALL_BIT = 0x40000000

# OCI architecture -> (syscall table, audit arch, argument width in bits).
ARCHES = {
    "SCMP_ARCH_X86_64": ("x86_64", AUDIT_ARCH_X86_64, 64),
    "SCMP_ARCH_X86": ("i386", AUDIT_ARCH_I386, 32),
    "SCMP_ARCH_X32": ("x32", AUDIT_ARCH_X86_64, 32),
    "SCMP_ARCH_AARCH64": ("aarch64", AUDIT_ARCH_AARCH64, 64),
    "SCMP_ARCH_ARM": ("arm", AUDIT_ARCH_ARM, 32),
}
# Architectures whose syscalls can reach a filter on each native architecture.
RUNNABLE = {
    "SCMP_ARCH_X86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "SCMP_ARCH_X86": ("SCMP_ARCH_X86",),
    "SCMP_ARCH_AARCH64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "SCMP_ARCH_ARM": ("SCMP_ARCH_ARM",),
}
# OCI architectures this runtime cannot execute; accepted in profiles and ignored.
FOREIGN_ARCHES = frozenset((
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
))
MACHINE_ARCH = {
    "x86_64": "SCMP_ARCH_X86_64", "amd64": "SCMP_ARCH_X86_64", "i386": "SCMP_ARCH_X86",
    "i486": "SCMP_ARCH_X86", "i586": "SCMP_ARCH_X86", "i686": "SCMP_ARCH_X86",
    "aarch64": "SCMP_ARCH_AARCH64", "arm64": "SCMP_ARCH_AARCH64", "armv7l": "SCMP_ARCH_ARM",
    "armv6l": "SCMP_ARCH_ARM", "armv8l": "SCMP_ARCH_ARM",
}

# Comparison operators.
CMP_NE, CMP_LT, CMP_LE, CMP_EQ, CMP_GE, CMP_GT, CMP_MASKED_EQ = range(7)
OPERATORS = {
    "SCMP_CMP_NE": CMP_NE, "SCMP_CMP_LT": CMP_LT, "SCMP_CMP_LE": CMP_LE,
    "SCMP_CMP_EQ": CMP_EQ, "SCMP_CMP_GE": CMP_GE, "SCMP_CMP_GT": CMP_GT,
    "SCMP_CMP_MASKED_EQ": CMP_MASKED_EQ,
}

_U64 = 0xFFFFFFFFFFFFFFFF
_U32 = 0xFFFFFFFF
_MAX_ARGS = 6
_ARGS_OFFSET = 16  # offsetof(struct seccomp_data, args)
_LEAF_SIZE = 3  # runs of syscall numbers tested one by one at the leaves of the dispatch tree


def action_value(name: object, errno_ret: object = None, where: str = "linux.seccomp") -> int:
    """The SECCOMP_RET_* value of an OCI action name (errnoRet for ERRNO and TRACE); ``where``
    is the profile (its defaultAction) or one of its syscalls[i] entries (its action)."""
    default = where == "linux.seccomp"
    action_at = f"{where}.{'defaultAction' if default else 'action'}"
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return RET_KILL_THREAD
    if name == "SCMP_ACT_KILL_PROCESS":
        return RET_KILL_PROCESS
    if name == "SCMP_ACT_TRAP":
        return RET_TRAP
    if name == "SCMP_ACT_ALLOW":
        return RET_ALLOW
    if name == "SCMP_ACT_LOG":
        return RET_LOG
    if name in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        data = errno.EPERM if errno_ret is None else errno_ret
        if type(data) is not int or not 0 <= data <= RET_DATA:
            raise SeccompError(f"seccomp: {where}.{'defaultErrnoRet' if default else 'errnoRet'}"
                               f": {errno_ret!r} is not in 0..65535")
        return (RET_ERRNO if name == "SCMP_ACT_ERRNO" else RET_TRACE) | data
    if name == "SCMP_ACT_NOTIFY":
        raise SeccompError(f"seccomp: {action_at}: SCMP_ACT_NOTIFY is not supported by pyrunc "
                           "(no seccomp user-space notification / listenerPath support)")
    raise SeccompError(f"seccomp: {action_at}: unknown action {name!r}")


def _precedence(action: int) -> int:
    """Sort key: lower is more restrictive (the kernel compares the action as a signed int)."""
    full = action & RET_ACTION_FULL
    return full - 0x100000000 if full & 0x80000000 else full


def profile_of(seccomp: Seccomp | dict) -> Seccomp:
    """The typed profile; a plain dict (tools, tests) is decoded like a config's
    ``linux.seccomp``, its type and range errors reported as seccomp errors."""
    if not isinstance(seccomp, dict):
        return seccomp
    from pyrunc.errors import ConfigError
    from pyrunc.spec.model import Seccomp, decode

    try:
        return decode(Seccomp, seccomp, "linux.seccomp")
    except ConfigError as err:
        raise SeccompError(f"seccomp: {str(err).removeprefix('invalid config: ')}") from None


def filter_flags(seccomp: Seccomp | dict) -> int:
    """The seccomp(2) flags named by the profile's ``flags`` list."""
    flags = 0
    for i, name in enumerate(profile_of(seccomp).flags or ()):
        value = SUPPORTED_FLAGS.get(name)
        if value is None:
            raise SeccompError(f"seccomp: linux.seccomp.flags[{i}]: flag {name!r} is not "
                               "supported (supported: "
                               f"{', '.join(SUPPORTED_FLAGS)})")
        flags |= value
    return flags


def native_arch_name(native_arch: str | None = None) -> str:
    """The SCMP_ARCH_* name of ``native_arch`` (an SCMP name or a machine name; default: host)."""
    if native_arch is None:
        native_arch = os.uname().machine
    name = native_arch if native_arch in ARCHES else MACHINE_ARCH.get(native_arch)
    if name is None or name not in RUNNABLE:
        raise SeccompError(f"seccomp: native architecture {native_arch!r} is not supported")
    return name


def _parse_condition(arg: SeccompArg, where: str) -> tuple[int, int, int, int]:
    """Types and the 64-bit range were checked when the profile was decoded."""
    index, op_name = arg.index, arg.op
    if not 0 <= index < _MAX_ARGS:
        raise SeccompError(f"seccomp: {where}.index: argument index {index!r} is not in 0..5")
    op = OPERATORS.get(op_name)
    if op is None:
        raise SeccompError(f"seccomp: {where}.op: unknown operator {op_name!r}")
    return (index, op, arg.value or 0, arg.value_two or 0)


class _Rule:
    __slots__ = ("action", "conditions")

    def __init__(self, action: int, conditions: tuple) -> None:
        self.action = action
        self.conditions = conditions


def _parse_rules(seccomp: Seccomp, default: int) -> tuple[list, list[str]]:
    """[(names, [_Rule...])] in profile order, and every syscall name the profile mentions."""
    entries = []
    all_names: list[str] = []
    for position, entry in enumerate(seccomp.syscalls or ()):
        where = f"linux.seccomp.syscalls[{position}]"
        names = entry.names
        if names is None:  # pre-1.0 spec form (the decoder requires one of the two)
            names = [entry.name or ""]
        if not all(names):
            raise SeccompError(f"seccomp: {where}.names: must be a list of syscall names")
        action = action_value(entry.action, entry.errno_ret, where)
        conditions = [_parse_condition(arg, f"{where}.args[{j}]")
                      for j, arg in enumerate(entry.args or ())]
        all_names.extend(names)
        if action == default:
            continue
        indexes = [c[0] for c in conditions]
        if len(set(indexes)) != len(indexes):
            rules = [_Rule(action, (c,)) for c in conditions]
        else:
            rules = [_Rule(action, tuple(conditions))]
        entries.append((names, rules))
    return entries, all_names


def _resolve(rules: list) -> list:
    """Apply the conflict policy to the rules of one syscall (see the module docstring).

    Like libseccomp: a rule whose conditions include all of an earlier rule's conditions is
    absorbed by it, and the first unconditional rule replaces every other rule.
    """
    kept: list[_Rule] = []
    for rule in rules:
        if not rule.conditions:
            return [rule]
        conditions = set(rule.conditions)
        if not any(conditions.issuperset(k.conditions) for k in kept):
            kept.append(rule)
    return sorted(kept, key=lambda r: _precedence(r.action))


class _Abi:
    """Rules of one ABI: syscall number -> list of rules, plus its ENOSYS bound."""

    __slots__ = ("arch", "audit", "bits", "enosys_above", "rules", "table")

    def __init__(self, arch: str) -> None:
        from pyrunc.linux import syscall_tables

        table_name, self.audit, self.bits = ARCHES[arch]
        self.arch = arch
        self.table = syscall_tables.syscalls(table_name)
        self.rules: dict[int, list] = {}
        self.enosys_above: int | None = None

    def add(self, nr: int, rule: _Rule) -> None:
        bucket = self.rules.get(nr)
        if bucket is None:
            self.rules[nr] = [rule]
        else:
            bucket.append(rule)


def _arches(seccomp: Seccomp, native: str) -> tuple[list[str], list[str]]:
    """(filtered architectures with native first, listed ones that get runc's ENOSYS stub)."""
    listed = seccomp.architectures or []
    runnable = RUNNABLE[native]
    filtered = [native]
    explicit = []
    for i, arch in enumerate(listed):
        if arch not in ARCHES and arch not in FOREIGN_ARCHES:
            raise SeccompError(f"seccomp: linux.seccomp.architectures[{i}]: unknown "
                               f"architecture {arch!r}")
        if arch not in runnable:
            continue
        if arch not in filtered:
            filtered.append(arch)
        if arch not in explicit:
            explicit.append(arch)
    return filtered, explicit


def _build_abis(seccomp: Seccomp, native: str, default: int) -> list[_Abi]:
    filtered, explicit = _arches(seccomp, native)
    entries, all_names = _parse_rules(seccomp, default)
    abis = [_Abi(arch) for arch in filtered]
    mux = None
    if any(abi.arch == "SCMP_ARCH_X86" for abi in abis):
        from pyrunc.linux import syscall_tables

        mux = syscall_tables.multiplexed_i386()
    for abi in abis:
        table, add = abi.table, abi.add
        is_i386 = abi.arch == "SCMP_ARCH_X86"
        for names, entry_rules in entries:
            rules = [_for_abi(rule, abi.bits) for rule in entry_rules]
            for name in names:
                nr = table.get(name)
                if nr is not None:
                    for rule in rules:
                        add(nr, rule)
                if is_i386 and mux is not None:
                    _add_multiplexed(abi, name, rules, mux)
        if abi.arch in explicit and not _enosys_exempt(seccomp, default):
            known = [table[n] for n in all_names if n in table]
            if known:
                abi.enosys_above = max(known)
    return abis


def _for_abi(rule: _Rule, bits: int) -> _Rule:
    """The rule as libseccomp sees it on an ABI with ``bits``-wide arguments.

    32-bit ABIs keep the low word of every value; MASKED_EQ conditions whose mask is zero on
    every compared word are dropped (always true), so such a rule can become unconditional,
    which matters for the conflict policy.
    """
    kept = []
    for cond in rule.conditions:
        index, op, value, value_two = cond
        if bits == 32:
            value, value_two = value & _U32, value_two & _U32
            cond = (index, op, value, value_two)
        if op == CMP_MASKED_EQ and not value:
            continue
        kept.append(cond)
    kept_tuple = tuple(kept)
    return rule if kept_tuple == rule.conditions else _Rule(rule.action, kept_tuple)


def _add_multiplexed(abi: _Abi, name: str, rules: list, mux: tuple) -> None:
    """i386: also filter the socketcall(2)/ipc(2) form of socket and SysV IPC calls."""
    socketcall, ipc = mux
    for call_table, carrier in ((socketcall, "socketcall"), (ipc, "ipc")):
        call = call_table.get(name)
        if call is not None:
            nr = abi.table[carrier]
            for rule in rules:
                kept = tuple(c for c in rule.conditions if c[0] != 0)
                abi.add(nr, _Rule(rule.action, ((0, CMP_EQ, call, 0), *kept)))


def _enosys_exempt(seccomp: Seccomp, default: int) -> bool:
    if seccomp.default_errno_ret == errno.ENOSYS:
        return True
    return default & RET_ACTION_FULL in (RET_ALLOW, RET_LOG, RET_TRACE)


def _emit_condition(prog: bpf.Program, cond: tuple, bits: int, match: int, fail: int) -> int:
    """Emit one argument comparison; return the label of its first instruction.

    64-bit ABIs compare the high word first and look at the low word only when the high words
    are equal; 32-bit ABIs compare the low word alone.
    """
    index, op, value, value_two = cond
    lo_off = _ARGS_OFFSET + 8 * index
    if op == CMP_MASKED_EQ:
        mask, datum = value, value_two & value
    else:
        mask, datum = _U64, value
    jump, emit = prog.jump, prog.emit
    lo, lo_mask = datum & _U32, mask & _U32
    hi, hi_mask = datum >> 32, mask >> 32
    if op == CMP_MASKED_EQ and bits == 64 and not (lo_mask and hi_mask):
        # One word is masked out entirely: compare the other only (libseccomp does the same).
        word_mask, word, offset = (hi_mask, hi, lo_off + 4) if lo_mask == 0 else \
            (lo_mask, lo, lo_off)
        jump(bpf.JEQ, word, match, fail)
        if word_mask != _U32:
            emit(bpf.ALU_AND_K, word_mask)
        return emit(bpf.LD_W_ABS, offset)
    if op in (CMP_EQ, CMP_MASKED_EQ):
        jump(bpf.JEQ, lo, match, fail)
    elif op == CMP_NE:
        jump(bpf.JEQ, lo, fail, match)
    elif op == CMP_GT:
        jump(bpf.JGT, lo, match, fail)
    elif op == CMP_GE:
        jump(bpf.JGE, lo, match, fail)
    elif op == CMP_LT:
        jump(bpf.JGE, lo, fail, match)
    else:  # CMP_LE
        jump(bpf.JGT, lo, fail, match)
    if lo_mask != _U32:
        emit(bpf.ALU_AND_K, lo_mask)
    low = emit(bpf.LD_W_ABS, lo_off)
    if bits == 32:
        return low
    if op in (CMP_EQ, CMP_MASKED_EQ):
        jump(bpf.JEQ, hi, low, fail)
    elif op == CMP_NE:
        jump(bpf.JEQ, hi, low, match)
    elif op in (CMP_GT, CMP_GE):
        jump(bpf.JGT, hi, match, jump(bpf.JEQ, hi, low, fail))
    else:  # CMP_LT, CMP_LE
        jump(bpf.JGT, hi, fail, jump(bpf.JEQ, hi, low, match))
    if hi_mask != _U32:
        emit(bpf.ALU_AND_K, hi_mask)
    return emit(bpf.LD_W_ABS, lo_off + 4)


def _emit_rules(prog: bpf.Program, rules: list, bits: int, default: int) -> int:
    """Emit the (resolved) rule chain of one syscall; return its entry label."""
    if not rules[-1].conditions:
        return prog.ret(rules[-1].action)
    fail = prog.ret(default)
    for rule in reversed(rules):
        label = prog.ret(rule.action)
        for cond in reversed(rule.conditions):
            label = _emit_condition(prog, cond, bits, label, fail)
        fail = label
    return fail


def _dispatch_ranges(abi: _Abi) -> list[list]:
    """[low, high, action or None, rules] per run of syscall numbers, ascending.

    Consecutive numbers whose (resolved) rules are one unconditional rule with the same action
    share a run, so the dispatch compares ranges, not every number.
    """
    ranges: list[list] = []
    for nr in sorted(abi.rules):
        rules = _resolve(abi.rules[nr])
        action = None if rules[0].conditions else rules[0].action
        last = ranges[-1] if ranges else None
        if action is not None and last is not None and last[2] == action and last[1] == nr - 1:
            last[1] = nr
        else:
            ranges.append([nr, nr, action, rules])
    return ranges


def _emit_dispatch(prog: bpf.Program, abi: _Abi, default: int) -> int:
    """Emit the syscall-number dispatch of one ABI (A holds the number); return its entry.

    A binary search over the runs of :func:`_dispatch_ranges` (JGE on a run's first number)
    down to leaves of a few runs tested one by one; numbers in no run get the default action.
    """
    ranges = _dispatch_ranges(abi)
    bits = abi.bits

    def tree(first: int, stop: int) -> int:
        if stop - first > _LEAF_SIZE:
            mid = (first + stop) // 2
            right = tree(mid, stop)
            left = tree(first, mid)
            return prog.jump(bpf.JGE, ranges[mid][0], right, left)
        chains = [None if action is not None else _emit_rules(prog, rules, bits, default)
                  for _low, _high, action, rules in ranges[first:stop]]
        label = prog.ret(default)
        for i in range(stop - first - 1, -1, -1):
            low, high, action, _rules = ranges[first + i]
            chain = chains[i]  # built above for every range without an action
            target = prog.ret(action) if chain is None else chain
            if low == high:
                label = prog.jump(bpf.JEQ, low, target, label)
            else:
                inside = prog.jump(bpf.JGT, high, label, target)
                label = prog.jump(bpf.JGE, low, inside, label)
        return label

    entry = tree(0, len(ranges)) if ranges else prog.ret(default)
    if abi.enosys_above is not None:
        entry = prog.jump(bpf.JGT, abi.enosys_above, prog.ret(RET_ERRNO | errno.ENOSYS), entry)
    return entry


def compile_filter(seccomp: Seccomp | dict, native_arch: str | None = None) -> bytes:
    """Compile an OCI ``linux.seccomp`` object into a packed ``struct sock_filter`` array.

    ``native_arch`` is the architecture of the kernel the filter will run on (an SCMP_ARCH_*
    name or a machine name such as ``x86_64``; default: this host). Unknown syscall names are
    skipped like runc does; see the module docstring for the exact semantics. Raises
    :class:`SeccompError` naming the offending field for anything invalid or unsupported.
    """
    seccomp = profile_of(seccomp)
    default = action_value(seccomp.default_action, seccomp.default_errno_ret)
    filter_flags(seccomp)
    if seccomp.listener_path:
        raise SeccompError("seccomp: linux.seccomp.listenerPath: not supported by pyrunc "
                           "(no seccomp user-space notification support)")
    native = native_arch_name(native_arch)
    abis = _build_abis(seccomp, native, default)

    prog = bpf.Program()
    by_audit: dict[int, list[_Abi]] = {}
    for abi in abis:
        by_audit.setdefault(abi.audit, []).append(abi)
    sections = []  # (audit arch, entry label), emitted last-first
    for audit in reversed(list(by_audit)):
        group = by_audit[audit]
        if audit == AUDIT_ARCH_X86_64:
            x64 = next((a for a in group if a.arch == "SCMP_ARCH_X86_64"), None)
            x32 = next((a for a in group if a.arch == "SCMP_ARCH_X32"), None)
            if x32:
                x32_entry = _emit_dispatch(prog, x32, default)
            else:  # nr -1 (a tracer skipping the call) is not x32: libseccomp lets it through
                x32_entry = prog.jump(bpf.JEQ, _U32, prog.ret(default), prog.ret(BAD_ARCH_ACTION))
            x64_entry = _emit_dispatch(prog, x64, default) if x64 else prog.ret(BAD_ARCH_ACTION)
            entry = prog.jump(bpf.JGE, X32_SYSCALL_BIT, x32_entry, x64_entry)
        else:
            entry = _emit_dispatch(prog, group[0], default)
        prog.goto(entry)  # the number load below falls through to the entry
        sections.append((audit, prog.emit(bpf.LD_W_ABS, 0)))  # A = seccomp_data.nr
    label = prog.ret(BAD_ARCH_ACTION)
    for audit, entry in sections:
        label = prog.jump(bpf.JEQ, audit, entry, label)
    prog.emit(bpf.LD_W_ABS, 4)  # A = seccomp_data.arch
    if len(prog) > bpf.MAX_INSNS:
        raise SeccompError(f"seccomp: the compiled filter has {len(prog)} instructions, more "
                           f"than the kernel's limit of {bpf.MAX_INSNS}")
    return prog.assemble()


def load_filter(program: bytes, flags: int = 0, sc: Syscalls = SYS) -> None:
    """Install ``program`` on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER).

    The kernel accepts it only when the thread has no_new_privs set or CAP_SYS_ADMIN in its user
    namespace. Call order in a container's init (runc's): set PR_SET_NO_NEW_PRIVS if the process
    asks for it; if it does not, load the filter *before* dropping capabilities (CAP_SYS_ADMIN is
    still there); if it does, load it as late as possible, after capabilities, setgroups/setgid/
    setuid, just before signalling the parent and waiting for start, then execve. Every syscall
    made after loading (write/read on the sync pipe, open/write of the exec fifo, close, execve)
    must be allowed by the profile. Compile beforehand: compiling makes no syscalls.
    """
    if not program or len(program) % bpf.SOCK_FILTER.size:
        raise SeccompError(f"seccomp: load filter: program of {len(program)} bytes is not a "
                           "whole number of instructions")
    count = len(program) // bpf.SOCK_FILTER.size
    if count > bpf.MAX_INSNS:
        raise SeccompError(f"seccomp: load filter: {count} instructions exceed the kernel limit "
                           f"of {bpf.MAX_INSNS}")
    import ctypes as c  # a module name, so the class base below type-checks

    class SockFprog(c.Structure):
        _fields_ = [("len", c.c_ushort), ("filter", c.c_void_p)]

    buffer = c.create_string_buffer(program, len(program))
    fprog = SockFprog(count, c.addressof(buffer))
    try:
        sc.seccomp(SECCOMP_SET_MODE_FILTER, flags, fprog)
    except OSError as err:
        hint = ""
        if err.errno == errno.EACCES:
            hint = " (set no_new_privs first or keep CAP_SYS_ADMIN until the filter is loaded)"
        elif err.errno == errno.EINVAL and flags:
            hint = f" (flags {flags:#x} may not be supported by this kernel)"
        raise SeccompError(f"seccomp: load filter ({count} instructions, flags {flags:#x}): "
                           f"{os.strerror(err.errno or 0)}{hint}") from err
