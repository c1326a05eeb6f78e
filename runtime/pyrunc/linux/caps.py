"""Capability names and the five capability sets (bounding, effective, permitted, inheritable,
ambient) applied in the order the kernel requires."""

from __future__ import annotations

from pyrunc.errors import ConfigError, KernelError
from pyrunc.spec.model import Capabilities

from .syscalls import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    SYS,
    Syscalls,
)

NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)
BY_NAME = {"CAP_" + name: bit for bit, name in enumerate(NAMES)}
SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")
_NO_CAPS = Capabilities()


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def to_mask(names: list[str] | None, field: str, last: int) -> int:
    """Capability names → bit mask. Unknown names are an error; capabilities this kernel does not
    know (above cap_last_cap) are skipped, as runc does."""
    mask = 0
    for i, name in enumerate(names or ()):
        bit = BY_NAME.get(name)
        if bit is None:
            raise ConfigError(f"invalid config: {field}[{i}]: unknown capability {name!r}")
        if bit <= last:
            mask |= 1 << bit
    return mask


class CapabilityPlan:
    """The masks to apply, computed (and validated) before anything is changed."""

    def __init__(self, caps: Capabilities | None, field: str = "process.capabilities") -> None:
        last = last_cap()
        self.last = last
        self.field = field
        if caps is None:
            caps = _NO_CAPS
        self.bounding = to_mask(caps.bounding, f"{field}.bounding", last)
        self.effective = to_mask(caps.effective, f"{field}.effective", last)
        self.inheritable = to_mask(caps.inheritable, f"{field}.inheritable", last)
        self.permitted = to_mask(caps.permitted, f"{field}.permitted", last)
        self.ambient = to_mask(caps.ambient, f"{field}.ambient", last)

    def _capset_field(self) -> str:
        """The set the kernel most likely refused: effective must lie within permitted, and
        inheritable within bounding (the process lacks CAP_SETPCAP by then)."""
        if self.effective & ~self.permitted:
            return f"{self.field}.effective"
        if self.inheritable & ~self.bounding:
            return f"{self.field}.inheritable"
        return self.field

    def drop_bounding(self, sc: Syscalls = SYS) -> None:
        """Step 1 (needs CAP_SETPCAP, so before the user switch)."""
        for bit in range(self.last + 1):
            if not self.bounding >> bit & 1:
                sc.prctl(PR_CAPBSET_DROP, bit)

    def apply(self, sc: Syscalls = SYS) -> None:
        """Step 2, after setuid (with PR_SET_KEEPCAPS): the thread's sets, then ambient."""
        try:
            sc.capset(self.effective, self.permitted, self.inheritable)
        except OSError as err:
            raise KernelError(f"{self._capset_field()}: capset: {err.strerror}") from None
        sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        for bit in range(self.last + 1):
            if self.ambient >> bit & 1:
                # The kernel refuses ambient caps missing from permitted or inheritable; runc
                # ignores those with a warning, so do we (silently: stdout/stderr are the
                # container's).
                try:
                    sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, bit)
                except OSError:
                    pass
