"""pyrunc run [options] <container-id>: create + start, then wait and exit with its status."""

from __future__ import annotations

from pyrunc.cli import args as a
from pyrunc.cli.common import CREATE_FLAGS, check_cgroup_driver

FLAGS = [*CREATE_FLAGS,
         a.Flag("detach,d", a.BOOL, help="detach from the container's process"),
         a.Flag("keep", a.BOOL, help="do not delete the container after it exits"),
         a.Flag("no-subreaper", a.BOOL, help="disable the use of the subreaper used to reap "
                                             "reparented processes")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("run", rest, 1)
    check_cgroup_driver(ctx)
    from pyrunc.create import CreateOptions
    from pyrunc.foreground import run_container

    create_opts = CreateOptions(ctx.root, rest[0], opts["bundle"], opts["pid_file"],
                                opts["console_socket"], opts["no_pivot"],
                                opts["no_new_keyring"], opts["preserve_fds"],
                                rootless=ctx.is_rootless)
    return run_container(create_opts, detach=opts["detach"], keep=opts["keep"],
                         subreaper=not opts["no_subreaper"])
