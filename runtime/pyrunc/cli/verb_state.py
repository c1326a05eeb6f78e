"""pyrunc state <container-id>: runc's state JSON on stdout."""

from __future__ import annotations

import sys

from pyrunc.cli import args as a


def run(ctx, argv: list[str]) -> int:
    _, rest = a.parse(argv, [])
    a.exact_args("state", rest, 1)
    from pyrunc import jsonio
    from pyrunc.container import Container

    sys.stdout.write(jsonio.dumps(Container.load(ctx.root, rest[0]).oci_state(), indent=2) + "\n")
    return 0
