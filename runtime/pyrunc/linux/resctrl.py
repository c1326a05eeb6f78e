"""Intel RDT (``linux.intelRdt``): cache and memory-bandwidth allocation through the resctrl
filesystem. pyrunc does not implement it; a config asking for it is refused, saying whether the
host could have done it at all (runc 1.1.5 refuses schemata without resctrl, and silently runs a
closID-only request)."""

from __future__ import annotations

from pyrunc.errors import ConfigError, NotSupported


def resctrl_mounted(mountinfo: str = "/proc/self/mountinfo") -> bool:
    try:
        with open(mountinfo) as f:
            return any(line.partition(" - ")[2].startswith("resctrl ") for line in f)
    except OSError:
        return False


def refuse_intel_rdt(field: str = "linux.intelRdt") -> None:
    if not resctrl_mounted():
        raise ConfigError(f"{field}: Intel RDT cannot be applied: this host has no resctrl"
                          " filesystem mounted (/sys/fs/resctrl)")
    raise NotSupported(f"{field}: pyrunc does not implement Intel RDT (resctrl)")
