"""pyrunc create [options] <container-id>"""

from __future__ import annotations

from pyrunc.cli import args as a
from pyrunc.cli.common import CREATE_FLAGS, check_cgroup_driver

FLAGS = CREATE_FLAGS


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("create", rest, 1)
    check_cgroup_driver(ctx)
    from pyrunc.create import CreateOptions, create

    create(CreateOptions(ctx.root, rest[0], opts["bundle"], opts["pid_file"],
                         opts["console_socket"], opts["no_pivot"], opts["no_new_keyring"],
                         opts["preserve_fds"],
                         rootless=ctx.is_rootless))
    return 0
