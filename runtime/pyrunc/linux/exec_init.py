"""The children of ``pyrunc exec``: stage 1 joins the container's namespaces (after P put it in
the container's cgroups), forks stage 2 (which lands in the container's pid namespace), reports
its pid and exits; stage 2 finishes the process and execs it.

Protocol (same framing as linux/init.py): P → 1 ``go``; 1 → P ``pid:N``; 2 → P ``console``
(fd, foreground tty only); 2 → P ``ready``; then the sync socket closes at execve (it is
close-on-exec): P reading EOF means the exec happened, ``error:...`` means it did not.
"""

from __future__ import annotations

import os

from . import init as _init
from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Process

    from .caps import CapabilityPlan
    from .syscalls import Syscalls

# Join order: user first; mount last (after it, host paths — /proc/<pid>/ns included — are gone).
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


class ExecSpec:
    def __init__(self) -> None:
        self.sc: Syscalls = s.SYS
        self.process: Process | None = None
        self.namespaces: list[tuple[str, int]] = []  # (type, open fd of /proc/<init>/ns/<x>)
        self.sync_fd = -1
        self.parent_only_fds: list[int] = []
        self.console_fd: int | None = None
        self.tty_to_parent = False
        self.preserve_fds = 0
        self.caps: CapabilityPlan | None = None
        self.rlimits: list[tuple[int, int, int]] = []
        self.seccomp_program: bytes | None = None
        self.seccomp_flags = 0


def stage1(spec: ExecSpec) -> None:
    fd = spec.sync_fd
    for parent_fd in spec.parent_only_fds:
        os.close(parent_fd)
    try:
        spec.sc.prctl(s.PR_SET_PDEATHSIG, 9)
        _init.expect(fd, "go")
        _preload(spec)
        if spec.process is not None:  # before joining its user namespace (refused there)
            from . import process

            process.set_oom_score_adj(spec.process.oom_score_adj)
        for kind, nsfd in spec.namespaces:
            try:
                spec.sc.setns(nsfd, _init.NS_FLAGS[kind])
            except OSError as err:
                raise _init.KernelError(f"join the container's {kind} namespace: "
                                        f"{err.strerror}") from None
            os.close(nsfd)
        pid = os.fork()
        if pid == 0:
            stage2(spec)
        _init.send(fd, "pid", str(pid))
        os._exit(0)
    except BaseException as err:
        _init.send_error(fd, err)
        os._exit(1)


def _preload(spec: ExecSpec) -> None:
    """Import now what stage 2 needs: after joining the mount namespace the host's Python
    library is gone."""
    import resource  # noqa: F401

    from . import attrs, caps, console, process  # noqa: F401

    attrs.preload(spec.process)
    if spec.seccomp_program is not None:
        from . import seccomp  # noqa: F401


def stage2(spec: ExecSpec) -> None:
    fd = spec.sync_fd
    proc = spec.process
    try:
        assert proc is not None  # execute() sets it
        os.setsid()
        if proc.terminal:
            _init.setup_pty(proc, spec.console_fd, fd if spec.tty_to_parent else None)
        path, env = _init.finalize_process(spec.sc, proc, spec.caps, spec.rlimits,
                                           spec.seccomp_program, spec.seccomp_flags,
                                           spec.preserve_fds, fd)
        _init.send(fd, "ready")
        os.execve(path, list(proc.args), env)
    except BaseException as err:
        _init.send_error(fd, err)
        os._exit(1)
