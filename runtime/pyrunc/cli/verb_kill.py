"""pyrunc kill [--all] <container-id> [signal] (default SIGTERM; numbers or names)."""

from __future__ import annotations

from pyrunc.cli import args as a

FLAGS = [a.Flag("all,a", a.BOOL, help="send the specified signal to all processes inside the "
                                      "container")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    if not 1 <= len(rest) <= 2:
        raise a.UsageError('pyrunc: "kill" requires a minimum of 1 and a maximum of 2 '
                           'argument(s)')
    from pyrunc import signals
    from pyrunc.container import Container

    sig = signals.parse(rest[1] if len(rest) == 2 else "SIGTERM")
    Container.load(ctx.root, rest[0]).kill(sig, opts["all"])
    return 0
