"""A test-only classic-BPF interpreter for seccomp programs.

Runs a packed ``struct sock_filter`` array against a ``struct seccomp_data`` built from
(arch, nr, args), checking what the kernel's verifier checks on the way (jumps in range, only
forward, loads aligned and inside seccomp_data, the program ends in a return).
"""

from __future__ import annotations

import struct

INSN = struct.Struct("=HBBI")
SECCOMP_DATA_SIZE = 64  # nr, arch, instruction_pointer, args[6]


class BadProgram(AssertionError):
    """The program would be refused by the kernel or misbehaves."""


def decode(program: bytes) -> list[tuple[int, int, int, int]]:
    if len(program) % INSN.size:
        raise BadProgram("program length is not a multiple of 8")
    insns = [INSN.unpack_from(program, off) for off in range(0, len(program), INSN.size)]
    if not 0 < len(insns) <= 4096:
        raise BadProgram(f"{len(insns)} instructions")
    for pc, (code, jt, jf, k) in enumerate(insns):
        cls = code & 0x07
        if cls == 0x05:  # JMP
            targets = [pc + 1 + k] if code == 0x05 else [pc + 1 + jt, pc + 1 + jf]
            for target in targets:
                if target >= len(insns):
                    raise BadProgram(f"jump out of range at {pc}: {code:#x} {jt} {jf} {k}")
        elif code == 0x20:  # LD W ABS
            if k % 4 or k + 4 > SECCOMP_DATA_SIZE:
                raise BadProgram(f"bad load offset {k} at {pc}")
        elif code not in (0x06, 0x54):
            raise BadProgram(f"unexpected opcode {code:#x} at {pc}")
    if insns[-1][0] != 0x06:
        raise BadProgram("the last instruction is not a return")
    return insns


def seccomp_data(arch: int, nr: int, args: tuple[int, ...] = (), ip: int = 0) -> bytes:
    full = tuple(args) + (0,) * (6 - len(args))
    return struct.pack("=iIQ6Q", nr if nr < 0x80000000 else nr - 0x100000000, arch, ip, *full)


def run(program: bytes | list, arch: int, nr: int, args: tuple[int, ...] = ()) -> int:
    """The 32-bit value the filter returns for this syscall."""
    insns = decode(program) if isinstance(program, bytes | bytearray) else program
    data = seccomp_data(arch, nr, args)
    acc = 0
    pc = 0
    steps = 0
    while True:
        steps += 1
        if steps > len(insns):
            raise BadProgram("more steps than instructions: a backward jump?")
        code, jt, jf, k = insns[pc]
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code == 0x54:
            acc &= k
            pc += 1
        elif code == 0x06:
            return k
        elif code == 0x05:
            pc += 1 + k
        else:
            op = code & 0xF0
            if op == 0x10:
                taken = acc == k
            elif op == 0x20:
                taken = acc > k
            elif op == 0x30:
                taken = acc >= k
            elif op == 0x40:
                taken = bool(acc & k)
            else:
                raise BadProgram(f"unexpected jump {code:#x}")
            pc += 1 + (jt if taken else jf)
