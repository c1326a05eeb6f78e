"""The one place reading today's config dicts for the process attributes beyond the classic
ones: LSM labels, personality, I/O priority, scheduler, Intel RDT. Each calls a function taking
plain typed arguments (lsm, personality, scheduling, resctrl), so this glue is what changes when
the config becomes typed. ``check_*`` run in the runtime before anything is made; ``apply_*``
in the init (and exec's process) just before execve."""

from __future__ import annotations

from . import lsm, personality, resctrl, scheduling

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .syscalls import Syscalls


def check_process(proc: dict, apparmor_field: str = "process.apparmorProfile",
                  selinux_field: str = "process.selinuxLabel") -> None:
    lsm.refuse_unsupported(proc.get("apparmorProfile"), proc.get("selinuxLabel"), None,
                           apparmor_field, selinux_field)
    io = proc.get("ioPriority")
    if io is not None:
        scheduling.io_priority(io.get("class", ""), io.get("priority", 0))
    sched = proc.get("scheduler")
    if sched is not None:
        scheduling.scheduler_flags(sched.get("policy", ""), sched.get("flags") or [])


def check_config(config: dict) -> None:
    linux = config.get("linux") or {}
    check_process(config.get("process") or {})
    lsm.refuse_unsupported(None, None, linux.get("mountLabel"))
    pers = linux.get("personality")
    if pers is not None:
        personality.persona(pers.get("domain", ""), pers.get("flags") or [])
    if linux.get("intelRdt") is not None:
        resctrl.refuse_intel_rdt()


def apply_process(sc: Syscalls, proc: dict) -> None:
    """While still privileged (before the capability drop and the user switch)."""
    io = proc.get("ioPriority")
    if io is not None:
        scheduling.apply_io_priority(sc, io.get("class", ""), io.get("priority", 0))
    sched = proc.get("scheduler")
    if sched is not None:
        scheduling.apply_scheduler(sc, sched.get("policy", ""), sched.get("nice", 0),
                                   sched.get("priority", 0), sched.get("flags") or [],
                                   sched.get("runtime", 0), sched.get("deadline", 0),
                                   sched.get("period", 0))
    lsm.apply_apparmor(proc.get("apparmorProfile"))


def apply_config(sc: Syscalls, config: dict) -> None:
    pers = (config.get("linux") or {}).get("personality")
    if pers is not None:
        personality.apply_personality(sc, pers.get("domain", ""), pers.get("flags") or [])
