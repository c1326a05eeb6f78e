"""A classic-BPF assembler for seccomp filters, built back to front.

Classic BPF only jumps forward, so a program written from its last instruction to its first knows
the exact distance of every jump target when the jump is emitted. Conditional jumps carry 8-bit
offsets: a target further than 255 instructions away is reached through an unconditional ``ja``
(32-bit offset) placed right after the conditional jump. Labels are the positions of
instructions counted from the end of the program (the value :meth:`Program.emit` returns).
"""

from __future__ import annotations

import struct

# Opcodes (linux/bpf_common.h).
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
ALU_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
JA = 0x05  # BPF_JMP | BPF_JA
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGT = 0x25  # BPF_JMP | BPF_JGT | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

MAX_INSNS = 4096  # BPF_MAXINSNS: the kernel refuses longer programs
MAX_SHORT_JUMP = 255
_RET_REUSE_LIMIT = MAX_SHORT_JUMP - 8  # keep a margin for trampolines emitted meanwhile

SOCK_FILTER = struct.Struct("=HBBI")  # struct sock_filter, native byte order


class Program:
    """A BPF program under construction; instructions are emitted last-first."""

    __slots__ = ("_insns", "_rets")

    def __init__(self) -> None:
        self._insns: list[tuple[int, int, int, int]] = []
        self._rets: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._insns)

    def emit(self, code: int, k: int = 0) -> int:
        """Emit a non-jump instruction (load, ALU, return); return its label."""
        self._insns.append((code, 0, 0, k & 0xFFFFFFFF))
        return len(self._insns) - 1

    def ret(self, action: int) -> int:
        """Label of a ``ret action`` close enough for a short jump, emitting one if needed."""
        label = self._rets.get(action)
        if label is not None and len(self._insns) - label <= _RET_REUSE_LIMIT:
            return label
        label = self.emit(RET_K, action)
        self._rets[action] = label
        return label

    def ja(self, target: int) -> int:
        """Emit an unconditional jump to ``target``; return its label."""
        self._insns.append((JA, 0, 0, len(self._insns) - target - 1))
        return len(self._insns) - 1

    def goto(self, target: int) -> int:
        """Label that continues at ``target``: ``target`` itself when it is the next instruction."""
        return target if target == len(self._insns) - 1 else self.ja(target)

    def jump(self, code: int, k: int, jt: int, jf: int) -> int:
        """Emit ``if (A <code> k) goto jt else goto jf``; long distances go through ``ja``."""
        insns = self._insns
        if len(insns) - jt - 1 > MAX_SHORT_JUMP:
            jt = self.ja(jt)
        if len(insns) - jf - 1 > MAX_SHORT_JUMP:
            jf = self.ja(jf)
            if len(insns) - jt - 1 > MAX_SHORT_JUMP:  # the jf trampoline pushed jt too far
                jt = self.ja(jt)
        n = len(insns)
        insns.append((code, n - jt - 1, n - jf - 1, k & 0xFFFFFFFF))
        return n

    def assemble(self) -> bytes:
        """The program as a packed ``struct sock_filter`` array, first instruction first."""
        pack = SOCK_FILTER.pack
        return b"".join([pack(*insn) for insn in reversed(self._insns)])
