"""Linux capability numbers (linux/capability.h) by OCI name."""

from __future__ import annotations

NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)
NUMBER = {f"CAP_{name}": i for i, name in enumerate(NAMES)}


def mask(names: list[str]) -> int:
    """Bit mask of a list of CAP_* names, as in /proc/self/status Cap* lines."""
    bits = 0
    for name in names:
        bits |= 1 << NUMBER[name]
    return bits


def names(bits: int) -> list[str]:
    return [name for name, n in NUMBER.items() if bits >> n & 1]
