"""pyctl version: client and daemon versions."""

from __future__ import annotations

from pyengine import __version__
from pyengine.api import system_lean as api
from pyengine.cli.context import Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    ctx.out.write(f"Client:\n Version:\t{__version__}\n API version:\tpyengine.v1\n\n")
    v = ctx.client.lean(api.SystemService).Version(api.VersionRequest())
    ctx.out.write(
        f"Server:\n Engine:\n  Version:\t{v.version}\n  API version:\t{v.api_version}\n"
        f"  OS/Arch:\t{v.os}/{v.arch}\n  Kernel:\t{v.kernel_version}\n"
        f"  Python:\t{v.python_version}\n"
    )
    return 0
