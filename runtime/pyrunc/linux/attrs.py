"""The process attributes beyond the classic ones, read from the decoded config: LSM labels,
personality, I/O priority, scheduler, Intel RDT. Each calls a function taking plain typed
arguments (lsm, personality, scheduling, resctrl). ``check_*`` run in the runtime before
anything is made; ``apply_*`` in the init (and exec's process) just before execve. Types,
enumerations and ranges were checked when the config was decoded (spec/model.py).

Almost no config sets any of these, so the modules doing the work are imported only for a
field that is set (pyrunc's start-up budget); :func:`preload` imports them in the init before
pivot_root, after which the host's Python library is out of reach."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Config, Linux, Process

    from .syscalls import Syscalls


def preload(proc: Process | None, linux: Linux | None = None) -> None:
    """Import now what ``apply_process``/``apply_config`` will need for these settings."""
    if proc is not None:
        if proc.io_priority is not None or proc.scheduler is not None:
            from . import scheduling  # noqa: F401
        if proc.apparmor_profile:
            from . import lsm  # noqa: F401
    if linux is not None and linux.personality is not None:
        from . import personality  # noqa: F401


def check_process(proc: Process | None, apparmor_field: str = "process.apparmorProfile",
                  selinux_field: str = "process.selinuxLabel") -> None:
    if proc is None:
        return
    if proc.apparmor_profile or proc.selinux_label:
        from . import lsm

        lsm.refuse_unsupported(proc.apparmor_profile, proc.selinux_label, None,
                               apparmor_field, selinux_field)
    io = proc.io_priority
    sched = proc.scheduler
    if io is not None or sched is not None:
        from . import scheduling

        if io is not None:
            scheduling.io_priority(io.klass, io.priority or 0)
        if sched is not None:
            scheduling.scheduler_flags(sched.policy, sched.flags or [])


def check_config(config: Config) -> None:
    linux = config.linux
    check_process(config.process)
    if linux is None:
        return
    if linux.mount_label:
        from . import lsm

        lsm.refuse_unsupported(None, None, linux.mount_label)
    pers = linux.personality
    if pers is not None:
        from . import personality

        personality.persona(pers.domain, pers.flags or [])
    if linux.intel_rdt is not None:
        from . import resctrl

        resctrl.refuse_intel_rdt()


def apply_process(sc: Syscalls, proc: Process) -> None:
    """While still privileged (before the capability drop and the user switch)."""
    io = proc.io_priority
    sched = proc.scheduler
    if io is not None or sched is not None:
        from . import scheduling  # imported by preload() before pivot_root

        if io is not None:
            scheduling.apply_io_priority(sc, io.klass, io.priority or 0)
        if sched is not None:
            scheduling.apply_scheduler(sc, sched.policy, sched.nice or 0, sched.priority or 0,
                                       sched.flags or [], sched.runtime or 0,
                                       sched.deadline or 0, sched.period or 0)
    if proc.apparmor_profile:
        from . import lsm

        lsm.apply_apparmor(proc.apparmor_profile)


def apply_config(sc: Syscalls, config: Config) -> None:
    pers = config.linux.personality if config.linux else None
    if pers is not None:
        from . import personality

        personality.apply_personality(sc, pers.domain, pers.flags or [])
