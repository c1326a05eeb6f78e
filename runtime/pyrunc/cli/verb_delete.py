"""pyrunc delete [--force] <container-id>"""

from __future__ import annotations

from pyrunc.cli import args as a

FLAGS = [a.Flag("force,f", a.BOOL, help="Forcibly deletes the container if it is still running "
                                        "(uses SIGKILL)")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("delete", rest, 1)
    from pyrunc.container import Container
    from pyrunc.errors import ContainerNotFound

    try:
        # not Container.load: the record is read under the lock (and --force copes with a
        # damaged one)
        Container(ctx.root, rest[0]).delete(opts["force"])
    except ContainerNotFound:
        # Already gone (possibly deleted by a concurrent call while we waited for the lock):
        # containerd's cleanup shim and podman call delete --force after every container.
        if not opts["force"]:
            raise
    return 0
