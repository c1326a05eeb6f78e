"""``create`` as seen from the parent (P): validate, claim the id, fork the init (see
linux/init.py for the protocol), record the container. Any failure undoes everything: the init is
killed, the cgroup removed and the state directory deleted before the error is reported."""

from __future__ import annotations

import os

from pyrunc import log, state
from pyrunc.errors import CgroupError, ConfigError, KernelError, NotSupported, PyruncError
from pyrunc.linux import init as linux_init
from pyrunc.spec.config import load_bundle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cgroups.manager import Manager
    from pyrunc.spec.config import Bundle
    from pyrunc.spec.model import Config, Linux, Seccomp


class CreateOptions:
    def __init__(self, root: str, cid: str, bundle: str, pid_file: str | None = None,
                 console_socket: str | None = None, no_pivot: bool = False,
                 no_new_keyring: bool = False, preserve_fds: int = 0,
                 tty_to_parent: bool = False, rootless: bool = False) -> None:
        self.root = root
        self.id = cid
        self.bundle = bundle
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds
        self.tty_to_parent = tty_to_parent
        self.rootless = rootless  # cgroup permission errors are tolerated (runc's rule)


class Created:
    """What ``create`` hands to ``run``: the init's pid and, for ``run -t``, the pty master."""

    def __init__(self, pid: int, console_master: int | None) -> None:
        self.pid = pid
        self.console_master = console_master


def _namespaces(linux: Linux | None) -> tuple[list[str], list[tuple[str, str]]]:
    new, join = [], []
    for ns in (linux.namespaces if linux else None) or ():
        if ns.path:
            join.append((ns.type, ns.path))
        else:
            new.append(ns.type)
    if "mount" not in new and not any(kind == "mount" for kind, _ in join):
        # No mount namespace: the container shares the runtime's (its mounts are made there
        # and it is chrooted, as runc does); masked and read-only paths are refused, as by runc.
        for key, listed in (("maskedPaths", linux.masked_paths if linux else None),
                            ("readonlyPaths", linux.readonly_paths if linux else None)):
            if listed:
                raise ConfigError(f"invalid config: linux.{key}: needs a mount namespace"
                                  " (new or joined) in linux.namespaces")
    if "user" in new and not (linux and linux.uid_mappings and linux.gid_mappings):
        raise ConfigError("invalid config: linux.uidMappings: user namespaces enabled, "
                          "but no uid or gid mappings found")
    return new, join


def _check_uts(hostname: str | None, domainname: str | None, new: list[str],
               join: list[tuple[str, str]]) -> None:
    """A host or domain name needs a UTS namespace of the container's (new or joined):
    without one it would rename the machine (runc refuses the hostname alike)."""
    if "uts" in new or any(kind == "uts" for kind, _ in join):
        return
    for key, value in (("hostname", hostname), ("domainname", domainname)):
        if value:
            raise ConfigError(f"invalid config: {key}: needs a UTS namespace (new or joined)"
                              " in linux.namespaces")


def build_init_spec(opts: CreateOptions, bundle: Bundle) -> linux_init.InitSpec:
    """Everything that can be checked before forking is checked here (fail before any change)."""
    from pyrunc.linux import attrs, caps, process, rootfs

    config = bundle.config
    proc = config.process
    if proc is None:
        raise ConfigError("invalid config: process: is required for create")
    terminal = bool(proc.terminal)
    if terminal and not opts.console_socket and not opts.tty_to_parent:
        raise ConfigError("cannot allocate tty if runc will detach without setting console socket")
    if opts.console_socket and not terminal:
        raise ConfigError("cannot use console socket if runc will not detach or allocate tty")
    linux = config.linux
    spec = linux_init.InitSpec()
    spec.config = config
    spec.bundle = bundle.path
    spec.rootfs = bundle.rootfs
    spec.cid = opts.id
    spec.preserve_fds = opts.preserve_fds
    spec.no_pivot = opts.no_pivot
    spec.new_keyring = not opts.no_new_keyring
    spec.tty_to_parent = terminal and opts.tty_to_parent and not opts.console_socket
    spec.new_ns, spec.join_ns = _namespaces(linux)
    _check_uts(config.hostname, config.domainname, spec.new_ns, spec.join_ns)
    if config.linux and config.linux.rootfs_propagation == "runbindable":
        # The cgroup, bind and read-only mounts are bind mounts out of that tree, which the
        # kernel refuses (EINVAL) once it is unbindable; runc 1.1.5 fails on every such config.
        raise ConfigError("invalid config: linux.rootfsPropagation: 'runbindable' cannot be set"
                          " up: the container's bind mounts (cgroup, binds, masked and read-only"
                          " paths) are made from that tree, and an unbindable one refuses them")
    spec.caps = caps.CapabilityPlan(proc.capabilities)
    spec.rlimits = process.parse_rlimits(proc.rlimits)
    rootfs.check_sysctl((linux.sysctl if linux else None) or {}, set(spec.new_ns),
                        dict(spec.join_ns))
    attrs.check_config(config)
    if linux and linux.seccomp:
        spec.seccomp_program, spec.seccomp_flags = _compile_seccomp(linux.seccomp)
    hooks = config.hooks
    spec.runtime_hooks = bool(hooks and (hooks.prestart or hooks.create_runtime))
    spec.state_for_hooks = {"ociVersion": config.oci_version, "id": opts.id,
                            "status": "creating", "bundle": bundle.path,
                            "annotations": config.annotations or {}}
    return spec


def _compile_seccomp(profile: Seccomp) -> tuple[bytes, int]:
    try:
        from pyrunc.linux import seccomp
    except ImportError:
        raise NotSupported("seccomp profiles are not supported by this build") from None
    return seccomp.compile_filter(profile), seccomp.filter_flags(profile)


def _socketpair() -> tuple[int, int]:
    import _socket

    a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET | _socket.SOCK_CLOEXEC)
    return a.detach(), b.detach()


def _write_id_maps(pid: int, linux: Linux) -> None:
    """Root writes any mapping. An unprivileged user may map only its own ids, and only after
    setgroups is denied (the kernel's rule; multi-range mappings would need newuidmap(1), which
    pyrunc does not use)."""
    if os.geteuid() != 0:
        try:
            with open(f"/proc/{pid}/setgroups", "w") as f:
                f.write("deny")
        except OSError as err:
            raise KernelError(f"write /proc/{pid}/setgroups: {err.strerror}") from None
    for kind, maps in (("uid", linux.uid_mappings), ("gid", linux.gid_mappings)):
        lines = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps or ())
        path = f"/proc/{pid}/{kind}_map"
        try:
            with open(path, "w") as f:
                f.write(lines)
        except OSError as err:
            raise KernelError(f"write {path} ({lines.strip()!r}): {err.strerror}") from None


def write_pid_file(path: str, pid: int) -> None:
    """Decimal pid, no newline (containerd parses the whole file with strconv.Atoi)."""
    path = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}")
    try:
        with open(tmp, "w") as f:
            f.write(str(pid))
        os.replace(tmp, path)
    except OSError as err:
        raise KernelError(f"write pid file {path}: {err.strerror}") from None


def create(opts: CreateOptions) -> Created:
    bundle = load_bundle(opts.bundle)
    spec = build_init_spec(opts, bundle)
    log.phase("create: config loaded and checked")
    config = bundle.config
    linux = config.linux
    resources = linux.resources if linux else None
    cdir = state.ContainerDir(opts.root, opts.id)
    cdir.claim()
    record = state.ContainerRecord(opts.id, bundle.path, bundle.rootfs, state.now_rfc3339())
    record.creator = (os.getpid(), state.proc_start_time(os.getpid()) or 0)
    record.annotations = config.annotations or {}
    record.hooks = _recorded_hooks(config)
    record.namespaces = {k: p for k, p in spec.join_ns} | {k: None for k in spec.new_ns}
    record.oci_version = config.oci_version
    # What exec and update need later (the bundle may change or vanish after create), in
    # config.json's own shape: decoded again (and so checked again) when read back.
    record.process = config.process.to_json() if config.process else None
    record.seccomp = linux.seccomp.to_json() if linux and linux.seccomp else None
    record.resources = resources.to_json() if resources else {}
    init_pid = 0
    manager = None
    try:
        cdir.write(record)
        os.mkfifo(cdir.fifo_path, 0o622)
        manager = _cgroup_manager(linux, opts.id)
        if manager is not None:
            # Recorded before mkdir: a create killed in between leaves a cgroup that
            # `delete --force` knows about.
            record.cgroup = manager.to_state()
            cdir.write(record)
            try:
                manager.create()
                record.cgroup = manager.to_state()
            except ValueError as err:  # a path the system cannot name: a NUL, a lone surrogate
                raise CgroupError(f"cgroup: create {linux.cgroups_path if linux else None!r}: "
                                  f"{err}") from None
            except PyruncError as err:
                if not (opts.rootless and "Permission denied" in str(err)
                        and not (resources and resources.has_limits())):
                    raise
                manager = None  # rootless without delegated cgroups: run without them
                record.cgroup = None
            cdir.write(record)
            if manager is not None:
                spec.cgroup_paths = _relative_paths(record.cgroup or {})
                userns = "user" in spec.new_ns or any(k == "user" for k, _ in spec.join_ns)
                if not userns:  # in a user namespace the init may not write host cgroups
                    own, rest = manager.self_joinable()
                    spec.self_join = [f"{d}/tasks" for d in own]
                    spec.stage1_join = rest
        if opts.console_socket:
            from pyrunc.linux import console

            try:
                spec.console_fd = console.connect(opts.console_socket)
            except OSError as err:
                raise KernelError(str(err.strerror)) from None
        parent_fd, spec.sync_fd = _socketpair()
        spec.parent_only_fds = [parent_fd, *cdir.lock_fds()]
        # Opened here, while privileged: the init may be an unprivileged user of its own user
        # namespace by the time it needs the fifo (the state dir is 0700 root).
        spec.fifo_fd = os.open(cdir.fifo_path, os.O_RDWR | os.O_CLOEXEC)
        log.phase("create: state, fifo and cgroups ready")
        stage1_pid = os.fork()
        if stage1_pid == 0:
            linux_init.stage1(spec)
        os.close(spec.fifo_fd)  # only the init may hold it: start detects a dead init by ENXIO
        os.close(spec.sync_fd)
        if spec.console_fd is not None:
            os.close(spec.console_fd)
        try:
            init_pid, master = _drive(parent_fd, stage1_pid, spec, manager, linux, record, cdir,
                                      opts)
        finally:
            os.close(parent_fd)
            _reap(stage1_pid)
        cdir.unlock()
        return Created(init_pid, master)
    except BaseException:
        pid = init_pid or record.pid
        _abort(cdir, pid, manager)
        _poststop_after_failure(config, dict(spec.state_for_hooks, pid=pid, status="stopped"))
        raise


def _relative_paths(saved: dict) -> dict[str, str]:
    """The manager's state → controller: path of the container's cgroup in its hierarchy."""
    paths, roots = saved.get("paths") or {}, saved.get("roots") or {}
    out = {}
    for key, path in paths.items():
        if key in roots:
            rel = os.path.relpath(path, roots[key])
            out[key] = "/" if rel == "." else "/" + rel
    return out


def _recorded_hooks(config: Config) -> dict[str, list]:
    """The hooks run after create (start's poststart, delete's poststop), as JSON."""
    hooks = config.hooks
    if hooks is None:
        return {}
    out = {}
    for kind, entries in (("poststart", hooks.poststart), ("poststop", hooks.poststop)):
        if entries is not None:
            out[kind] = [h.to_json() for h in entries]
    return out


def _cgroup_manager(linux: Linux | None, cid: str) -> Manager | None:
    try:
        from pyrunc.cgroups import new_manager
    except ImportError:
        return None
    return new_manager((linux.cgroups_path if linux else None) or None, cid)


def _drive(fd: int, stage1_pid: int, spec: linux_init.InitSpec, manager: Manager | None,
           linux: Linux | None, record: state.ContainerRecord, cdir: state.ContainerDir,
           opts: CreateOptions
           ) -> tuple[int, int | None]:
    """P's side of the sync protocol. Returns (init pid, pty master for run -t)."""
    # Stage 1 starts at once and places the init in its cgroups itself (see linux/init.py);
    # P writes the resources as soon as the init's pid is known, while the init mounts its
    # rootfs, and moves the init only in a user namespace (stage 1 may not write host cgroups).
    _tell(fd, "go")
    init_pid = 0
    master: int | None = None
    seccomp_loading = False
    while True:
        tag, payload, received = _recv(fd, spec.tty_to_parent)
        if tag == "console" and received is not None:
            master = received
            continue
        if tag == "userns" and linux is not None:
            _write_id_maps(stage1_pid, linux)
            _tell(fd, "mapped")
        elif tag == "pid":
            init_pid = int(payload)
            record.pid = init_pid
            record.pid_start = state.proc_start_time(init_pid)
            cdir.write(record)
            if manager is not None:
                # Device rules are always written (runc's defaults), so set() runs even
                # without a resources section.
                manager.set(linux.resources if linux else None,
                            tuple(d.path for d in linux.devices or ()) if linux else ())
                log.phase("create: resources set")
                if not (spec.self_join or spec.stage1_join):
                    # a user namespace: the init may not write host cgroups, we move it
                    log.debug(f"create: moving the init ({init_pid}) into its cgroups")
                    manager.apply(init_pid)
            if not spec.stage1_join:
                _tell(fd, "cgroups-ok")
        elif tag == "joined":
            log.phase("create: init in its cgroups")
            _tell(fd, "cgroups-ok")
        elif tag == "hooks":
            from pyrunc.linux import hooks

            hook_state = dict(spec.state_for_hooks, pid=init_pid)
            config_hooks = spec.config.hooks
            if config_hooks is not None:
                hooks.run_hooks("prestart", config_hooks.prestart, hook_state)
                hooks.run_hooks("createRuntime", config_hooks.create_runtime, hook_state)
            _tell(fd, "hooks-ok")
        elif tag == "ready":
            log.phase("create: init ready")
            break
        elif tag == linux_init.SECCOMP_LOADING:
            seccomp_loading = True
        elif tag == "error":
            raise linux_init.child_error(payload)
        elif seccomp_loading:
            raise linux_init.seccomp_death(f"the container init (pid {init_pid})")
        else:
            raise KernelError("container init exited before it was set up"
                              + (f" (pid {init_pid})" if init_pid else ""))
    if opts.pid_file:
        write_pid_file(opts.pid_file, init_pid)
    record.status = "created"
    record.creator = None
    cdir.write(record)
    try:
        linux_init.send(fd, "ack")
    except (BrokenPipeError, ConnectionResetError):
        raise KernelError(f"container init (pid {init_pid}) exited before create "
                          f"completed") from None
    return init_pid, master


def _read_message(fd: int, accept_fd: bool) -> tuple[bytes, int | None]:
    if accept_fd:
        from pyrunc.linux import console

        return console.recv_fd(fd)
    return os.read(fd, 65536), None


def _tell(fd: int, tag: str) -> None:
    """Send a protocol message to a child that may have just failed: its error report (or EOF)
    is still queued on our side of the socket, and the loop reads it next, so a broken pipe
    here must not replace the child's own message."""
    try:
        linux_init.send(fd, tag)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _recv(fd: int, accept_fd: bool) -> tuple[str, str, int | None]:
    try:
        data, received = _read_message(fd, accept_fd)
    except ConnectionResetError:
        # The child exited with one of our messages unread: the kernel reports that once, and
        # the child's last message (its error report) is still queued behind it.
        data, received = _read_message(fd, accept_fd)
    if not data:
        return "eof", "", None
    tag, _, payload = data.decode(errors="replace").partition(":")
    return tag, payload, received


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _poststop_after_failure(config: Config, hook_state: dict) -> None:
    """A create that fails after the container began to exist still ends the lifecycle: the
    container is destroyed (done) and the poststop hooks run; their failures only warn."""
    from pyrunc.linux.hooks import run_hooks_warn

    run_hooks_warn("poststop", config.hooks.poststop if config.hooks else None, hook_state)


def _abort(cdir: state.ContainerDir, pid: int, manager: Manager | None) -> None:
    """Undo a failed create: no process, cgroup or state directory may survive."""
    from pyrunc import procs

    try:
        if pid:
            procs.kill_and_wait(pid, 9)
        if manager is not None:
            try:
                manager.destroy()
            except (PyruncError, OSError, ValueError):  # ValueError: an unnameable path
                pass
    finally:
        cdir.remove()
