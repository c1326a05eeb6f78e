"""What a bench run leaves behind, found by the prefix of its temporary directories
(/tmp/PREFIX*): processes whose command line names one, mounts and the directories."""

from __future__ import annotations

import os
from pathlib import Path


def left_by(prefix: str) -> list[str]:
    found = [f"process {pid}" for pid in os.listdir("/proc") if pid.isdigit()
             and f"/tmp/{prefix}".encode() in _cmdline(pid)]
    with open("/proc/self/mountinfo") as info:
        found += [f"mount {line.split()[4]}" for line in info if prefix in line]
    found += [f"directory {p}" for p in Path("/tmp").glob(f"{prefix}*")]
    return found


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""
