"""``process.ioPriority`` (ioprio_set(2)) and ``process.scheduler`` (sched_setattr(2)), applied
by the init (and exec) while still privileged, before the capability drop: a real-time class or
policy needs CAP_SYS_ADMIN / CAP_SYS_NICE. Both survive execve."""

from __future__ import annotations

from pyrunc.errors import ConfigError, KernelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .syscalls import Syscalls

IO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
_IOPRIO_CLASS_SHIFT = 13
_IOPRIO_WHO_PROCESS = 1

POLICIES = {"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
            "SCHED_IDLE": 5, "SCHED_DEADLINE": 6}
FLAGS = {"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02,
         "SCHED_FLAG_DL_OVERRUN": 0x04, "SCHED_FLAG_KEEP_POLICY": 0x08,
         "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
         "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40}


def _lookup(table: dict[str, int], name: str, field: str) -> int:
    value = table.get(name)
    if value is None:
        raise ConfigError(f"invalid config: {field}: unknown value {name!r}")
    return value


def io_priority(io_class: str, priority: int) -> int:
    """The ioprio value; ConfigError for an unknown class or a level outside 0-7."""
    cls = _lookup(IO_CLASSES, io_class, "process.ioPriority.class")
    if not 0 <= priority <= 7:
        raise ConfigError(f"invalid config: process.ioPriority.priority: {priority} is not in"
                          " 0-7")
    return cls << _IOPRIO_CLASS_SHIFT | priority


def apply_io_priority(sc: Syscalls, io_class: str, priority: int) -> None:
    value = io_priority(io_class, priority)
    try:
        sc.ioprio_set(_IOPRIO_WHO_PROCESS, 0, value)
    except OSError as err:
        raise KernelError(f"process.ioPriority: set {io_class} priority {priority}:"
                          f" {err.strerror}") from None


def scheduler_flags(policy: str, flags: list[str]) -> tuple[int, int]:
    """(policy number, flag bits); ConfigError for unknown names."""
    bits = 0
    for name in flags:
        bits |= _lookup(FLAGS, name, "process.scheduler.flags")
    return _lookup(POLICIES, policy, "process.scheduler.policy"), bits


def apply_scheduler(sc: Syscalls, policy: str, nice: int, priority: int, flags: list[str],
                    runtime: int, deadline: int, period: int) -> None:
    number, bits = scheduler_flags(policy, flags)
    try:
        sc.sched_setattr(0, number, bits, nice, priority, runtime, deadline, period)
    except OSError as err:
        raise KernelError(f"process.scheduler: set {policy} (nice {nice}, priority {priority},"
                          f" flags {flags or []}): {err.strerror}") from None
