"""pyrunc resume <container-id>"""

from __future__ import annotations

from pyrunc.cli import args as a


def run(ctx, argv: list[str]) -> int:
    _, rest = a.parse(argv, [])
    a.exact_args("resume", rest, 1)
    from pyrunc.container import Container

    Container.load(ctx.root, rest[0]).resume()
    return 0
