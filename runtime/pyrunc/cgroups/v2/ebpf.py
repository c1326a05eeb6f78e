"""Assembler for the BPF_PROG_TYPE_CGROUP_DEVICE program that enforces v2 device rules.

The program reads ``struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor}``
(access_type = access << 16 | type) and returns 1 to allow, 0 to deny. Rules are emitted last
first, so the last matching OCI rule decides; an ``a *:* rwm`` rule ends the scan, and when no
rule matches the access is denied.

Registers: r2 = device type, r3 = requested access, r4 = major, r5 = minor, r1 = scratch.
"""

from __future__ import annotations

import struct

from pyrunc.cgroups.devices import Rule, is_wildcard

# linux/bpf.h
DEV_BLOCK = 1
DEV_CHAR = 2
ACC_MKNOD = 1
ACC_READ = 2
ACC_WRITE = 4

_LDXW = 0x61        # BPF_LDX | BPF_MEM | BPF_W
_AND32_K = 0x54     # BPF_ALU | BPF_AND | BPF_K
_RSH32_K = 0x74     # BPF_ALU | BPF_RSH | BPF_K
_MOV32_K = 0xB4     # BPF_ALU | BPF_MOV | BPF_K
_MOV32_X = 0xBC     # BPF_ALU | BPF_MOV | BPF_X
_JNE32_K = 0x56     # BPF_JMP32 | BPF_JNE | BPF_K
_EXIT = 0x95        # BPF_JMP | BPF_EXIT

INSN_SIZE = 8


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One ``struct bpf_insn``: opcode, dst/src registers, 16-bit offset, 32-bit immediate."""
    imm &= 0xFFFFFFFF
    if imm >= 1 << 31:
        imm -= 1 << 32
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _access_mask(access: str) -> int:
    mask = 0
    for char, bit in (("r", ACC_READ), ("w", ACC_WRITE), ("m", ACC_MKNOD)):
        if char in access:
            mask |= bit
    return mask


def _prologue() -> list[bytes]:
    return [
        insn(_LDXW, dst=2, src=1, off=0),
        insn(_AND32_K, dst=2, imm=0xFFFF),
        insn(_LDXW, dst=3, src=1, off=0),
        insn(_RSH32_K, dst=3, imm=16),
        insn(_LDXW, dst=4, src=1, off=4),
        insn(_LDXW, dst=5, src=1, off=8),
    ]


def _return(allow: bool) -> list[bytes]:
    return [insn(_MOV32_K, dst=0, imm=1 if allow else 0), insn(_EXIT)]


def _rule_block(rule: Rule) -> list[bytes]:
    """Instructions that return the rule's verdict when it matches and fall through if not."""
    allow, kind, major, minor, access = rule
    # Each test is (instructions before the jump, jump register, immediate).
    tests: list[tuple[list[bytes], int, int]] = []
    if kind != "a":
        tests.append(([], 2, DEV_BLOCK if kind == "b" else DEV_CHAR))
    mask = _access_mask(access)
    if mask != ACC_READ | ACC_WRITE | ACC_MKNOD:
        # Matches when the request asks for nothing outside the rule's access.
        tests.append(([insn(_MOV32_X, dst=1, src=3), insn(_AND32_K, dst=1, imm=~mask)], 1, 0))
    if kind != "a" and major >= 0:
        tests.append(([], 4, major))
    if kind != "a" and minor >= 0:
        tests.append(([], 5, minor))
    verdict = _return(allow)
    block: list[bytes] = []
    remaining = sum(len(pre) + 1 for pre, _, _ in tests) + len(verdict)
    for pre, reg, imm in tests:
        block.extend(pre)
        remaining -= len(pre) + 1
        block.append(insn(_JNE32_K, dst=reg, off=remaining, imm=imm))
    block.extend(verdict)
    return block


def device_program(rules: list[Rule]) -> bytes:
    """The program enforcing ``rules`` (OCI order: the last match wins, default deny)."""
    program = _prologue()
    for rule in reversed(rules):
        if is_wildcard(rule):
            program.extend(_return(rule[0]))
            return b"".join(program)
        program.extend(_rule_block(rule))
    program.extend(_return(False))
    return b"".join(program)


def evaluate(program: bytes, kind: int, major: int, minor: int, access: int) -> int:
    """Interpret ``program`` for one device access (for tests; supports exactly the opcodes
    :func:`device_program` emits)."""
    regs = [0] * 11
    ctx = ((access << 16) | kind, major, minor)
    pc = 0
    count = len(program) // INSN_SIZE
    while pc < count:
        code, regs_byte, off, imm = struct.unpack_from("<BBhi", program, pc * INSN_SIZE)
        dst, src = regs_byte & 0x0F, regs_byte >> 4
        pc += 1
        if code == _LDXW:
            regs[dst] = ctx[off // 4]
        elif code == _AND32_K:
            regs[dst] = (regs[dst] & imm) & 0xFFFFFFFF
        elif code == _RSH32_K:
            regs[dst] = (regs[dst] & 0xFFFFFFFF) >> imm
        elif code == _MOV32_K:
            regs[dst] = imm & 0xFFFFFFFF
        elif code == _MOV32_X:
            regs[dst] = regs[src] & 0xFFFFFFFF
        elif code == _JNE32_K:
            if regs[dst] & 0xFFFFFFFF != imm & 0xFFFFFFFF:
                pc += off
        elif code == _EXIT:
            return regs[0]
        else:
            raise ValueError(f"opcode {code:#x} not supported")
    raise ValueError("program fell off its end")
