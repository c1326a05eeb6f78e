"""docker's --sig-proxy: while pyctl is attached to a container without a tty, the signals it
receives go to the container (a Kill with that signal) instead of ending pyctl, which then
exits with the container's status. As docker's ForwardAllSignals: every signal but SIGCHLD,
SIGPIPE and SIGURG (and those no process can catch)."""

from __future__ import annotations

import _signal as signal  # signal itself imports enum: not on the start-up path

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from pyengine.cli.context import Context

_KEPT = frozenset({signal.SIGCHLD, signal.SIGPIPE, signal.SIGURG, signal.SIGKILL,
                   signal.SIGSTOP})


def proxied() -> list[int]:
    """The signals pyctl forwards (glibc's own real-time signals cannot be caught)."""
    return [n for n in range(1, signal.NSIG) if n not in _KEPT]


def wanted(args: object) -> bool:
    """--sig-proxy's value (true unless "false" or "0")."""
    return str(getattr(args, "sig_proxy", "true")).lower() not in ("false", "0")


def add_flag(p: argparse.ArgumentParser) -> None:
    """--sig-proxy[=true|false] (run, attach): docker's boolean flag."""
    p.add_argument("--sig-proxy", nargs="?", const="true", default="true", type=_boolean,
                   metavar="true|false",
                   help="proxy received signals to the process (default true)")


def _boolean(text: str) -> str:
    if text.lower() not in ("true", "false", "1", "0"):
        import argparse

        raise argparse.ArgumentTypeError(f'invalid boolean value "{text}"')
    return text


def forwarder(ctx: Context, cid: str) -> Callable[[int], None]:
    """A function sending a signal to container `cid` (an error, e.g. the container has
    exited meanwhile, is not pyctl's to report: docker only logs it)."""
    from pyengine.api import containers_lean as api
    from pyengine.cli.wire import status as rpc

    stub = ctx.client.lean(api.ContainersService)

    def forward(signum: int) -> None:
        try:
            stub.Kill(api.KillContainerRequest(id=cid, signal=str(signum)))
        except rpc.RpcError:
            pass

    return forward
