"""``exec``: run another process inside a running container (P's side). The new process joins
every namespace and the cgroups of the container's init and gets the container's seccomp
profile; its capabilities, rlimits, user and no_new_privs come from the process spec."""

from __future__ import annotations

import os

from pyrunc.container import PAUSED, RUNNING, Container
from pyrunc.errors import ConfigError, InvalidState, KernelError
from pyrunc.linux import exec_init
from pyrunc.linux import init as linux_init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.spec.model import Process


class ExecOptions:
    def __init__(self, root: str, cid: str, process: Process, pid_file: str | None = None,
                 console_socket: str | None = None, detach: bool = False,
                 preserve_fds: int = 0, ignore_paused: bool = False) -> None:
        self.root = root
        self.id = cid
        self.process = process
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.detach = detach
        self.preserve_fds = preserve_fds
        self.ignore_paused = ignore_paused


def process_from_args(base: dict | None, args: list[str], opts: dict[str, Any]) -> Process:
    """runc's rule for the argument form: the container's process (as recorded, in its JSON
    shape), with the command, env (appended), cwd, user, additional gids, capabilities (added),
    tty and no_new_privs overridden from the flags; decoded (and so checked) like a config's
    process."""
    from pyrunc.spec.config import check_process

    proc = dict(base or {})
    proc["args"] = args
    proc["env"] = list(proc.get("env") or []) + list(opts.get("env") or [])
    if opts.get("cwd"):
        proc["cwd"] = opts["cwd"]
    proc.setdefault("cwd", "/")
    user = dict(proc.get("user") or {"uid": 0, "gid": 0})
    if opts.get("user"):
        uid, _, gid = opts["user"].partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise ConfigError(f"exec: --user {opts['user']!r}: expected UID[:GID] (numeric)")
        user["uid"] = int(uid)
        user["gid"] = int(gid) if gid else 0
    if opts.get("additional_gids"):
        gids = opts["additional_gids"]
        if not all(g.isdigit() for g in gids):
            raise ConfigError(f"exec: --additional-gids {','.join(gids)!r}: expected numbers")
        user["additionalGids"] = [int(g) for g in gids]
    proc["user"] = user
    proc["terminal"] = bool(opts.get("tty"))
    caps = {k: list(v) for k, v in (proc.get("capabilities") or {}).items()}
    for cap in opts.get("cap") or ():
        for kind in ("bounding", "effective", "permitted", "ambient"):
            caps.setdefault(kind, [])
            if cap not in caps[kind]:
                caps[kind].append(cap)
    if caps:
        proc["capabilities"] = caps
    if opts.get("no_new_privs"):
        proc["noNewPrivileges"] = True
    if opts.get("apparmor"):
        proc["apparmorProfile"] = opts["apparmor"]
    if opts.get("process_label"):
        proc["selinuxLabel"] = opts["process_label"]
    return check_process(proc)


def execute(opts: ExecOptions) -> int:
    from pyrunc.linux import attrs, caps, process

    container = Container.load(opts.root, opts.id)
    status = container.status()
    if status == PAUSED and not opts.ignore_paused:
        raise InvalidState("cannot exec in a paused container (use --ignore-paused to override)")
    if status not in (RUNNING, PAUSED, "created"):
        raise InvalidState("cannot exec in a stopped container")
    proc = opts.process
    attrs.check_process(proc)
    terminal = bool(proc.terminal)
    if terminal and not opts.console_socket and opts.detach:
        raise ConfigError("cannot allocate tty if runc will detach without setting console socket")
    if opts.console_socket and not terminal:
        raise ConfigError("cannot use console socket if runc will not detach or allocate tty")
    spec = exec_init.ExecSpec()
    spec.process = proc
    spec.preserve_fds = opts.preserve_fds
    spec.caps = caps.CapabilityPlan(proc.capabilities)
    spec.rlimits = process.parse_rlimits(proc.rlimits)
    recorded = container.record.seccomp
    if recorded:
        from pyrunc.create import _compile_seccomp
        from pyrunc.spec.model import Seccomp, decode

        seccomp = decode(Seccomp, recorded, "linux.seccomp")
        spec.seccomp_program, spec.seccomp_flags = _compile_seccomp(seccomp)
    spec.tty_to_parent = terminal and not opts.console_socket
    if not opts.detach:
        from pyrunc.linux.syscalls import PR_SET_CHILD_SUBREAPER, SYS

        SYS.prctl(PR_SET_CHILD_SUBREAPER, 1)
    init_pid = container.pid
    try:
        for kind in exec_init.JOIN_ORDER:
            if kind in container.record.namespaces:
                name = linux_init.NS_PROC_NAMES[kind]
                spec.namespaces.append(
                    (kind, os.open(f"/proc/{init_pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)))
        if not container.init_alive():
            raise InvalidState("cannot exec in a stopped container")
        if opts.console_socket:
            from pyrunc.linux import console

            spec.console_fd = console.connect(opts.console_socket)
        pid, master = _spawn(spec, container)
    finally:
        for _, fd in spec.namespaces:
            try:
                os.close(fd)
            except OSError:
                pass
    if opts.pid_file:
        from pyrunc.create import write_pid_file

        write_pid_file(opts.pid_file, pid)
    if opts.detach:
        return 0
    from pyrunc.foreground import supervise

    return supervise(pid, master)


def _spawn(spec: exec_init.ExecSpec, container: Container) -> tuple[int, int | None]:
    from pyrunc.create import _reap, _recv, _socketpair, _tell

    parent_fd, spec.sync_fd = _socketpair()
    spec.parent_only_fds = [parent_fd]
    stage1_pid = os.fork()
    if stage1_pid == 0:
        exec_init.stage1(spec)
    os.close(spec.sync_fd)
    if spec.console_fd is not None:
        os.close(spec.console_fd)
    pid = 0
    master: int | None = None
    seccomp_loading = ready = False
    try:
        cg = container.cgroup()
        if cg is not None:
            cg.apply(stage1_pid)
        _tell(parent_fd, "go")
        while True:
            tag, payload, received = _recv(parent_fd, spec.tty_to_parent)
            if tag == "console" and received is not None:
                master = received
            elif tag == "pid":
                pid = int(payload)
                _reap(stage1_pid)
            elif tag == linux_init.SECCOMP_LOADING:
                seccomp_loading = True
            elif tag == "ready":
                ready = True
            elif tag == "eof":
                if not pid:
                    raise KernelError("exec: the process exited before it was set up")
                if seccomp_loading and not ready:
                    raise linux_init.seccomp_death(f"the exec process (pid {pid})")
                return pid, master  # execve closed the (close-on-exec) sync socket
            elif tag == "error":
                raise linux_init.child_error(payload)
    except BaseException:
        if pid:
            from pyrunc import procs

            procs.kill_and_wait(pid, 9)
        if master is not None:
            os.close(master)
        raise
    finally:
        os.close(parent_fd)
        _reap(stage1_pid)
