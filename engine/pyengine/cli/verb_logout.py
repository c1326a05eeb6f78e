"""pyctl logout: log out from a registry."""

from __future__ import annotations

from pyengine.cli.context import Context
from pyengine.cli.credentials import DOCKER_HUB_KEY, server_key

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", default="", metavar="SERVER")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    server = args.server or DOCKER_HUB_KEY
    if not ctx.credentials.remove(server):
        ctx.out.write(f"Not logged in to {server_key(server)}\n")
        return 0
    ctx.out.write(f"Removing login credentials for {server_key(server)}\n")
    return 0
