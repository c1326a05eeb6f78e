"""pyrunc exec [options] <container-id> <command> [args...]   (or --process FILE)"""

from __future__ import annotations

from pyrunc.cli import args as a

FLAGS = [
    a.Flag("console-socket", a.VALUE, help="path to an AF_UNIX socket which will receive the "
                                           "pty master"),
    a.Flag("cwd", a.VALUE, help="current working directory in the container"),
    a.Flag("env,e", a.MULTI, help="set environment variables"),
    a.Flag("tty,t", a.BOOL, help="allocate a pseudo-TTY"),
    a.Flag("user,u", a.VALUE, help="UID (format: <uid>[:<gid>])"),
    a.Flag("additional-gids,g", a.MULTI, help="additional gids"),
    a.Flag("process,p", a.VALUE, help="path to the process.json"),
    a.Flag("detach,d", a.BOOL, help="detach from the container's process"),
    a.Flag("pid-file", a.VALUE, help="specify the file to write the process id to"),
    a.Flag("process-label", a.VALUE, help="set the asm process label (refused: pyrunc applies "
                                          "no SELinux label)"),
    a.Flag("apparmor", a.VALUE, help="set the apparmor profile (refused without AppArmor)"),
    a.Flag("no-new-privs", a.BOOL, help="set the no new privileges value for the process"),
    a.Flag("cap,c", a.MULTI, help="add a capability to the bounding set for the process"),
    a.Flag("preserve-fds", a.INT, 0, help="pass N additional file descriptors"),
    a.Flag("cgroup", a.MULTI, help="run the process in a (sub)cgroup (not supported)"),
    a.Flag("ignore-paused", a.BOOL, help="allow exec in a paused container"),
]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS, interspersed=False)
    from pyrunc import jsonio
    from pyrunc.errors import ConfigError, NotSupported, UsageError
    from pyrunc.execution import ExecOptions, execute, process_from_args
    from pyrunc.spec.config import check_process

    if opts["cgroup"]:
        raise NotSupported("exec --cgroup is not supported")
    if opts["process"]:
        a.exact_args("exec", rest, 1)
        for flag in ("apparmor", "process_label"):
            if opts[flag]:  # runc drops them silently; a security setting is never dropped
                raise UsageError(f"exec: --{flag.replace('_', '-')} is not applied with"
                                 " --process: set it in the process file")
        try:
            process = jsonio.load_file(opts["process"])
        except OSError as err:
            raise ConfigError(f"exec: read process file {opts['process']}: {err.strerror}"
                              ) from None
        except ValueError as err:
            raise ConfigError(f"exec: process file {opts['process']}: malformed JSON: {err}"
                              ) from None
        process = check_process(process)
    else:
        a.min_args("exec", rest, 2)
        from pyrunc.linux import lsm

        lsm.refuse_unsupported(opts["apparmor"], opts["process_label"], None, "exec --apparmor",
                               "exec --process-label")
        from pyrunc.container import Container

        base = Container.load(ctx.root, rest[0]).record.process
        process = process_from_args(base, rest[1:], opts)
    return execute(ExecOptions(ctx.root, rest[0], process, opts["pid_file"],
                               opts["console_socket"], opts["detach"], opts["preserve_fds"],
                               opts["ignore_paused"]))
