"""pyctl port: a container's published ports (docker's "80/tcp -> 0.0.0.0:8080")."""

from __future__ import annotations

from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("private", nargs="?", default="", metavar="PRIVATE_PORT[/PROTO]")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import containers_lean as api
    from pyengine.cli.ports_view import port_lines

    found = ctx.client.lean(api.ContainersService).Port(
        api.PortContainerRequest(id=args.container)).ports
    lines = port_lines(found)
    if not args.private:
        for key, host in lines:
            ctx.out.write(f"{key} -> {host}\n")
        return 0
    port, _, proto = args.private.partition("/")
    key = f"{port}/{proto or 'tcp'}"
    if not port.isdigit() or int(port) > 65535:
        raise CliError(f'invalid port ({port}): strconv.ParseUint: parsing "{port}": '
                       + ("invalid syntax" if not port.isdigit() else "value out of range"))
    hosts = [host for k, host in lines if k == key]
    if not hosts:  # docker 28's words: the port as typed
        raise CliError(f"No public port '{args.private}' published for {args.container}")
    for host in hosts:
        ctx.out.write(host + "\n")
    return 0
