"""The container init: what runs in the forked children during ``create``.

Processes (P = the ``pyrunc create`` process, the caller's child):

  P ──fork──► stage 1 ──fork──► stage 2 (the container init; pid 1 of a new pid namespace)

Stage 1 joins namespaces given by path, creates the user namespace (P writes its id maps), then
unshares every other new namespace. unshare(CLONE_NEWPID/NEWTIME) only applies to children, hence
the second fork; stage 1 then exits, so the init is reparented to the nearest child subreaper:
containerd's shim or conmon (``create``), or P itself (``run``, which sets PR_SET_CHILD_SUBREAPER).

Sync protocol over a SOCK_SEQPACKET socketpair (one message per datagram, ``tag`` or
``tag:payload``; an EOF means the peer died):

  P → 1   go          start (the cgroups are created; P moves the init into them later)
  1 → P   userns      stage 1 unshared CLONE_NEWUSER; P writes uid_map/gid_map ...
  P → 1   mapped      ... and answers
  1 → P   pid:N       N = host pid of the init; stage 1 exits right after
  1 → P   joined      (if asked) the init is in its cgroup v2: born there (clone3 with
                      CLONE_INTO_CGROUP), or stage 1 wrote its pid to cgroup.procs
  P → 2   cgroups-ok  the init is in all its cgroups (v1: inherited from stage 1, which joined
                      them itself before forking) and P set the resources
                      (meanwhile the init mounts its rootfs; it waits for this before a cgroup
                      namespace or mount, before making device nodes (the device rules must be
                      final), before hooks, and before ``ready``)
  2 → P   hooks       mounts are done: P runs prestart + createRuntime hooks (runtime namespace)
  P → 2   hooks-ok    (or P kills the init on failure)
  2 → P   console     (only for ``run -t`` without --console-socket) pty master via SCM_RIGHTS
  2 → P   seccomp     (only with linux.seccomp) the init loads the filter next: if the socket
                      then closes without ``ready`` or ``error``, the profile killed the init
                      (or blocked a system call it still makes: write, read, close, execve...)
                      and P names linux.seccomp instead of a bare "init exited"
  2 → P   ready       the init is set up and about to block on the exec fifo
  P → 2   ack         P recorded the container (pid file, state.json); the init may wait
  * → P   error:Class:message   setup failed; P reports it and cleans up

Errors before ``ack`` end the init, so a killed P never leaves an unrecorded container. After
``ack`` the init blocks reading exec.fifo (opened O_RDWR before pivot_root) until ``start``
writes a byte, runs startContainer hooks, and execs the user process.
"""

from __future__ import annotations

import os

from pyrunc import log
from pyrunc.errors import KernelError, PyruncError, SeccompError

from . import syscalls as s

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Config, Process

    from .caps import CapabilityPlan
    from .syscalls import Syscalls

NS_FLAGS = {
    "pid": s.CLONE_NEWPID, "network": s.CLONE_NEWNET, "mount": s.CLONE_NEWNS,
    "ipc": s.CLONE_NEWIPC, "uts": s.CLONE_NEWUTS, "user": s.CLONE_NEWUSER,
    "cgroup": s.CLONE_NEWCGROUP, "time": s.CLONE_NEWTIME,
}
NS_PROC_NAMES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
                 "user": "user", "cgroup": "cgroup", "time": "time"}
# Join order: the user namespace first (it grants the capabilities to join the others).
_JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")
SIGKILL = 9


def _empty_config() -> Config:
    from pyrunc.spec.model import Config, Root

    return Config(oci_version="", root=Root(path=""))


class InitSpec:
    """Everything the init needs, prepared (and validated) by P before forking."""

    def __init__(self) -> None:
        self.sc: Syscalls = s.SYS
        self.config: Config = _empty_config()
        self.bundle = ""
        self.rootfs = ""
        self.cid = ""
        self.sync_fd = -1
        self.console_fd: int | None = None  # connected --console-socket
        self.tty_to_parent = False           # run -t: the master goes to P over sync_fd
        self.fifo_fd = -1                     # exec.fifo, opened O_RDWR by P before forking
        self.parent_only_fds: list[int] = []  # P's sync end and state-dir lock: closed at once
        self.preserve_fds = 0
        self.no_pivot = False
        self.new_keyring = True
        self.in_cgroups = False               # set once P said cgroups-ok
        self.cgroup_paths: dict[str, str] | None = None  # controller → path in its hierarchy
        self.self_join: list[str] = []        # v1 `tasks` files stage 1 writes "0" to
        self.stage1_join: list[str] = []      # cgroup dirs stage 1 writes the init's pid to
        self.new_ns: list[str] = []           # namespace types to create
        self.join_ns: list[tuple[str, str]] = []  # (type, path) to join
        self.caps: CapabilityPlan | None = None
        self.rlimits: list[tuple[int, int, int]] = []
        self.seccomp_program: bytes | None = None
        self.seccomp_flags = 0
        self.runtime_hooks = False            # P must run prestart/createRuntime hooks
        self.state_for_hooks: dict = {}


# -- sync protocol ------------------------------------------------------------------------------
def send(fd: int, tag: str, payload: str = "") -> None:
    os.write(fd, (f"{tag}:{payload}" if payload else tag).encode())


def recv(fd: int) -> tuple[str, str]:
    data = os.read(fd, 65536)
    if not data:
        raise EOFError
    tag, _, payload = data.decode(errors="replace").partition(":")
    return tag, payload


def expect(fd: int, wanted: str) -> str:
    try:
        tag, payload = recv(fd)
    except EOFError:
        os._exit(1)  # P is gone: nobody will record us
    if tag != wanted:
        os._exit(1)
    return payload


def child_error(payload: str) -> PyruncError:
    """The typed error a child reported as ``error:Class:message``."""
    from pyrunc import errors

    kind, _, msg = payload.partition(":")
    cls = getattr(errors, kind, KernelError)
    if not (isinstance(cls, type) and issubclass(cls, PyruncError)):
        cls = KernelError
    return cls(msg)


def send_error(fd: int, err: BaseException) -> None:
    if isinstance(err, PyruncError):
        kind, msg = type(err).__name__, str(err)
    elif isinstance(err, OSError):
        kind, msg = "KernelError", str(err.strerror if not err.args[1:] else err.args[1])
        if err.filename:
            msg = f"{msg}: {err.filename}"
    else:
        kind, msg = "KernelError", f"{type(err).__name__}: {err}"
    try:
        send(fd, "error", f"{kind}:{msg}")
    except OSError:
        pass


# -- stage 1 ------------------------------------------------------------------------------------
def stage1(spec: InitSpec) -> None:
    """Runs in P's child; never returns."""
    fd = spec.sync_fd
    for parent_fd in spec.parent_only_fds:
        os.close(parent_fd)
    try:
        spec.sc.prctl(s.PR_SET_PDEATHSIG, SIGKILL)
        expect(fd, "go")
        proc = spec.config.process
        if proc is not None and proc.oom_score_adj is not None:
            # Still privileged in the runtime's user namespace: inside a new one it is refused.
            from . import process

            process.set_oom_score_adj(proc.oom_score_adj)
        _join_namespaces(spec)
        if "user" in spec.new_ns:
            spec.sc.unshare(s.CLONE_NEWUSER)
            send(fd, "userns")
            expect(fd, "mapped")
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        flags = 0
        for kind in spec.new_ns:
            if kind not in ("user", "cgroup"):  # cgroup: by the init, once in its cgroups
                flags |= NS_FLAGS[kind]
        if flags:
            spec.sc.unshare(flags)
        if "time" in spec.new_ns:
            _write_time_offsets(spec.config)
        log.phase("stage 1: namespaces created")
        # Join the v1 cgroups ourselves (cheap: a thread moving itself skips the kernel's
        # global lock); the init, forked next, is born in them.
        _join_own_cgroups(spec.self_join)
        pid, born_in = _fork_init(spec)
        if pid == 0:
            stage2(spec)
        send(fd, "pid", str(pid))
        if spec.stage1_join:
            # A migration into a cgroup v2 costs ~10 ms of kernel time: done here while P
            # writes the resources and the init builds its rootfs.
            for directory in spec.stage1_join:
                if directory != born_in:
                    _write_pid(f"{directory}/cgroup.procs", pid)
            send(fd, "joined")
        os._exit(0)
    except BaseException as err:
        send_error(fd, err)
        os._exit(1)


def _has_mount_ns(spec: InitSpec) -> bool:
    """False when the container shares the runtime's mount namespace (none listed)."""
    return "mount" in spec.new_ns or any(k == "mount" for k, _ in spec.join_ns)


def _join_namespaces(spec: InitSpec) -> None:
    paths = dict(spec.join_ns)
    if "mount" in paths:
        # The joined mount namespace need not hold our Python library: import first.
        from . import cgroupfs, hooks, rootfs  # noqa: F401

        _preload(spec)
    for kind in _JOIN_ORDER:
        path = paths.get(kind)
        if path is None:
            continue
        try:
            nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise KernelError(f"{_ns_field(spec, kind)}: open {kind} namespace {path}: "
                              f"{err.strerror}") from None
        try:
            spec.sc.setns(nsfd, NS_FLAGS[kind])
        except OSError as err:
            raise KernelError(f"{_ns_field(spec, kind)}: join {kind} namespace {path}: "
                              f"{err.strerror}") from None
        finally:
            os.close(nsfd)


def _ns_field(spec: InitSpec, kind: str) -> str:
    """The config path of the namespace entry of ``kind`` (types are unique, the decoder
    checked)."""
    listed = spec.config.linux.namespaces if spec.config.linux else None
    for i, ns in enumerate(listed or ()):
        if ns.type == kind:
            return f"linux.namespaces[{i}].path"
    return "linux.namespaces"


def _write_time_offsets(config: Config) -> None:
    offsets = config.linux.time_offsets if config.linux else None
    if offsets is None:
        return
    lines = []
    for clock, value in (("monotonic", offsets.monotonic), ("boottime", offsets.boottime)):
        if value is not None:
            lines.append(f"{clock} {value.secs or 0} {value.nanosecs or 0}\n")
    if lines:
        with open("/proc/self/timens_offsets", "w") as f:
            f.write("".join(lines))


# -- stage 2: the init --------------------------------------------------------------------------
def stage2(spec: InitSpec) -> None:
    """Runs as the container init; never returns (execs the user process or exits)."""
    fd = spec.sync_fd
    try:
        path, args, env = _setup(spec)
    except BaseException as err:
        send_error(fd, err)
        os._exit(1)
    _wait_and_exec(spec, path, args, env)


def _setup(spec: InitSpec) -> tuple[str, list[str], dict[str, str]]:
    from . import attrs, hooks, rootfs

    _preload(spec)
    sc, config, fd = spec.sc, spec.config, spec.sync_fd
    proc = config.process
    assert proc is not None  # build_init_spec refused a config without one
    os.setsid()
    # Our pid as the host sees it (hooks' state), read through the host's /proc while it is
    # still reachable: inside a new pid namespace getpid() says 1.
    spec.state_for_hooks["pid"] = int(os.readlink("/proc/self"))
    in_userns = "user" in spec.new_ns or any(k == "user" for k, _ in spec.join_ns)
    if "network" in spec.new_ns:
        # A new network namespace gets its loopback up, as runc does ("loopback" network);
        # one joined by path is left as it is.
        try:
            sc.link_up("lo")
        except OSError as err:
            raise KernelError(f"bring up lo in the new network namespace: {err.strerror}"
                              ) from None
    # P moves us into the container's cgroups meanwhile; what depends on being there waits.
    if "cgroup" in spec.new_ns:
        await_cgroups(spec)
        sc.unshare(s.CLONE_NEWCGROUP)  # rooted at the container's cgroup
    elif spec.cgroup_paths is None and any(m.type == "cgroup" for m in config.mounts or ()):
        await_cgroups(spec)  # the cgroup mount binds our own cgroup directories

    def before_pivot() -> None:
        if spec.runtime_hooks:
            await_cgroups(spec)
            send(fd, "hooks")
            expect(fd, "hooks-ok")
        hooks.run_hooks("createContainer", config.hooks.create_container if config.hooks else None,
                        spec.state_for_hooks)

    cgroupns = "cgroup" in spec.new_ns or any(k == "cgroup" for k, _ in spec.join_ns)
    log.phase("init: imports done")
    # Device nodes are made (and opened) only once P has written the device rules: on cgroup
    # v1 they change in several writes, and a node made in between would be refused.
    rootfs.prepare(sc, config, spec.bundle, spec.rootfs, in_userns, before_pivot, spec.no_pivot,
                   cgroupns, spec.cgroup_paths, before_dev=lambda: await_cgroups(spec),
                   mount_ns=_has_mount_ns(spec))
    log.phase("init: rootfs ready, pivoted")
    # Inside the new root, before any read-only remount (runc makes it there too).
    os.makedirs(proc.cwd, 0o755, exist_ok=True)

    if proc.terminal:
        _setup_terminal(spec, proc)
    if config.hostname or config.domainname:  # create checked a UTS namespace (new or joined)
        if config.hostname:
            sc.sethostname(config.hostname)
        if config.domainname:
            sc.setdomainname(config.domainname)
    rootfs.finish(sc, config)

    if spec.new_keyring:
        _join_session_keyring(sc, spec.cid)
    attrs.apply_config(sc, config)
    path, env = finalize_process(sc, proc, spec.caps, spec.rlimits, spec.seccomp_program,
                                 spec.seccomp_flags, spec.preserve_fds, fd)
    log.phase("init: process ready")
    await_cgroups(spec)
    send(fd, "ready")
    expect(fd, "ack")
    os.close(fd)
    return path, list(proc.args), env


def _fork_init(spec: InitSpec) -> tuple[int, str]:
    """Fork the init: (pid, or 0 in the child; the cgroup v2 directory it was born in, or "").

    With a cgroup v2 directory to join, the init is born in it (clone3 CLONE_INTO_CGROUP),
    which spares the ~10 ms a migration costs. Where the kernel refuses (before 5.7, or a
    cgroup that cannot take processes), a plain fork: the write to cgroup.procs that follows
    then succeeds or reports the cause against the file it wrote."""
    if spec.stage1_join:
        directory = spec.stage1_join[0]
        try:
            cgroup_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return os.fork(), ""
        try:
            pid = spec.sc.fork_into_cgroup(cgroup_fd)
        except OSError as err:
            log.debug(f"create: {err.strerror}; forking, then joining {directory}")
            return os.fork(), ""
        finally:
            os.close(cgroup_fd)
        return pid, directory
    return os.fork(), ""


def _write_pid(path: str, pid: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, str(pid).encode())
        finally:
            os.close(fd)
    except OSError as err:
        raise KernelError(f"join cgroup: write {pid} to {path}: {err.strerror}") from None


def _join_own_cgroups(tasks_files: list[str]) -> None:
    """Move ourselves into the container's v1 cgroups: a thread writing "0" to ``tasks`` skips
    the kernel's global threadgroup lock (we are single-threaded, so this moves the process)."""
    for path in tasks_files:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        except OSError as err:
            raise KernelError(f"join cgroup: write {path}: {err.strerror}") from None


def await_cgroups(spec: InitSpec) -> None:
    """Wait (once) until P has moved us into the container's cgroups."""
    if not spec.in_cgroups:
        expect(spec.sync_fd, "cgroups-ok")
        spec.in_cgroups = True


def _preload(spec: InitSpec) -> None:
    """After pivot_root the host's Python library is out of reach: import now everything the init
    may still need (lazy imports elsewhere would fail with ModuleNotFoundError)."""
    import resource  # noqa: F401

    from . import attrs, process  # noqa: F401

    config = spec.config
    attrs.preload(config.process, config.linux)
    if config.process and config.process.terminal:
        import _socket  # noqa: F401
        import fcntl  # noqa: F401

        from . import console  # noqa: F401
    if config.hooks and config.hooks.start_container:
        import subprocess  # noqa: F401
    if spec.seccomp_program is not None:
        from . import seccomp  # noqa: F401


def finalize_process(sc: Syscalls, proc: Process, plan: CapabilityPlan | None,
                     rlimits: list[tuple[int, int, int]], seccomp_program: bytes | None,
                     seccomp_flags: int, preserve_fds: int,
                     sync_fd: int) -> tuple[str, dict[str, str]]:
    """The process's own attributes, in the order the kernel requires (shared by the container
    init and ``exec``): rlimits and oom_score_adj while still privileged; seccomp before the
    capability drop unless no_new_privs is set (loading needs CAP_SYS_ADMIN otherwise); bounding
    set; user switch keeping capabilities; the five sets; cwd; executable lookup as the user;
    no_new_privs; umask; seccomp as late as possible. Inherited fds are marked close-on-exec
    first. ``seccomp`` is sent on ``sync_fd`` right before the filter is loaded (see the
    protocol above)."""
    from . import attrs, process

    user = proc.user
    cwd = proc.cwd
    env = _environment(proc.env or [], proc.uid)
    # Everything the caller leaked (containerd's ttrpc socket, a shell's fds...) closes at exec;
    # 0-2 and --preserve-fds stay. First, so no seccomp profile needs to allow close_range
    # (every fd opened after this is close-on-exec anyway).
    sc.close_range(3 + preserve_fds, 0xFFFFFFFF, 4)  # CLOSE_RANGE_CLOEXEC
    process.apply_rlimits(rlimits)
    process.set_oom_score_adj(proc.oom_score_adj)
    attrs.apply_process(sc, proc)
    nnp = bool(proc.no_new_privileges)
    if seccomp_program is not None and not nnp:
        _load_seccomp(sc, seccomp_program, seccomp_flags, sync_fd)
    if plan is not None:
        plan.drop_bounding(sc)
    process.switch_user(user, setgroups_allowed=_setgroups_allowed(), sc=sc)
    if plan is not None:
        plan.apply(sc)
    try:
        os.chdir(cwd)
    except OSError as err:
        raise KernelError(f"chdir to cwd ({cwd!r}) set in config.json failed: "
                          f"{str(err.strerror).lower()}") from None
    path = process.lookup_executable(proc.args[0], proc.env or [])
    if nnp:
        process.set_no_new_privs(sc)
    umask = user.umask if user is not None else None
    os.umask(0o022 if umask is None else umask & 0o777)
    if seccomp_program is not None and nnp:
        # as close to execve as possible
        _load_seccomp(sc, seccomp_program, seccomp_flags, sync_fd)
    return path, env


def _load_seccomp(sc: Syscalls, program: bytes, flags: int, sync_fd: int) -> None:
    from . import seccomp

    send(sync_fd, SECCOMP_LOADING)
    seccomp.load_filter(program, flags, sc)


SECCOMP_LOADING = "seccomp"


def seccomp_death(who: str) -> SeccompError:
    """P's report when the child said ``seccomp`` and then closed the socket without a word."""
    return SeccompError(f"seccomp: linux.seccomp: {who} died after loading the seccomp filter, "
                        "before exec (the profile kills or blocks a system call the runtime "
                        "still makes between loading it and execve: write, read, close, "
                        "execve...)")


def _join_session_keyring(sc: Syscalls, cid: str) -> None:
    """As runc: a session keyring of its own ("_ses.<id>"), so the container cannot reach the
    caller's keys. Kernels without keyrings (ENOSYS) or inside a user namespace (EACCES/EPERM)
    skip it, as runc does."""
    try:
        key = sc.join_session_keyring(f"_ses.{cid}")
        # possessor: all; user: view|read|write|search|link|setattr; group/other: nothing.
        sc.keyctl_setperm(key, 0x3F3F0000)
    except OSError as err:
        if err.errno not in (38, 13, 1):  # ENOSYS, EACCES, EPERM
            raise KernelError(f"join session keyring _ses.{cid}: {err.strerror}") from None


def _setgroups_allowed() -> bool:
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() != "deny"
    except OSError:
        return True


def _setup_terminal(spec: InitSpec, proc: Process) -> None:
    slave = setup_pty(proc, spec.console_fd,
                      spec.sync_fd if spec.tty_to_parent else None)
    if os.path.exists("/dev/console"):
        try:
            spec.sc.mount(slave, "/dev/console", None, s.MS_BIND)
        except OSError as err:
            raise KernelError(f"bind {slave} on /dev/console: {err.strerror}") from None


def setup_pty(proc: Process, console_fd: int | None, parent_fd: int | None) -> str:
    """Make a pty in the container's devpts, hand its master to the console socket (or to P over
    the sync socket for ``run -t``/``exec -t`` in the foreground), make the slave our controlling
    terminal and stdio. Returns the slave's path."""
    from . import console

    master, slave = console.open_pty()
    size = proc.console_size
    if size is not None and size.height and size.width:
        console.set_winsize(master, size.height, size.width)
    if console_fd is not None:
        console.send_fd(console_fd, master)
        os.close(console_fd)
    elif parent_fd is not None:
        console.send_fd(parent_fd, master, b"console")
    os.close(master)
    console.make_controlling_stdio(slave, proc.uid, proc.gid)
    return slave


def _environment(env_list: list[str], uid: int) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in env_list:
        key, _, value = item.partition("=")
        env[key] = value
    if "HOME" not in env:
        env["HOME"] = _home_of(uid)
    return env


def _home_of(uid: int) -> str:
    try:
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def _wait_and_exec(spec: InitSpec, path: str, args: list[str], env: dict[str, str]) -> None:
    from . import hooks

    fifo_fd = spec.fifo_fd
    try:
        while True:
            try:
                if os.read(fifo_fd, 1):
                    break
            except InterruptedError:
                continue
        # fifo_fd stays open until execve closes it (close-on-exec): `start` waits for that
        # hang-up before running poststart hooks.
        state = dict(spec.state_for_hooks, status="created")
        config_hooks = spec.config.hooks
        hooks.run_hooks("startContainer",
                        config_hooks.start_container if config_hooks else None, state)
        os.execve(path, args, env)
    except PyruncError as err:
        _die(str(err), 1)
    except OSError as err:
        _die(f"exec {path}: {err.strerror}", 127 if err.errno == 2 else 126)


def _die(msg: str, code: int) -> None:
    try:
        os.write(2, f"pyrunc: {msg}\n".encode())
    finally:
        os._exit(code)

