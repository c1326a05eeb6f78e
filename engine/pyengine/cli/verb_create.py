"""pyctl create: create a container from a local image."""

from __future__ import annotations

from pyengine.cli import container_opts
from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    container_opts.add(p)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    ctx.out.write(container_opts.create(ctx, container_opts.request(args)) + "\n")
    return 0
