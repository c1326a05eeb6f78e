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
        container = Container.load(ctx.root, rest[0])
    except ContainerNotFound:
        if opts["force"]:
            return 0  # containerd's cleanup shim and podman call this after every container
        raise
    container.delete(opts["force"])
    return 0
