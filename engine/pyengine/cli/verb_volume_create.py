"""pyctl volume create: create a volume (the local driver; -o type/device/o mount one)."""

from __future__ import annotations

from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default="", metavar="VOLUME")
    p.add_argument("-d", "--driver", default="local", help="volume driver name")
    p.add_argument("-o", "--opt", action="append", default=[],
                   help="driver specific options (type, device, o)")
    p.add_argument("--label", action="append", default=[], help="set metadata for a volume")
    p.add_argument("--name", dest="name_flag", default="", help="volume name")
    p.set_defaults(func=run)


def key_values(items: list[str]) -> dict[str, str]:
    """KEY=VALUE items (a bare KEY: an empty value, which the daemon judges)."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import volumes_pb2

    if args.name and args.name_flag:
        raise CliError("conflicting options: cannot specify a volume-name through both "
                       "--name and as a positional arg", prefix="")
    response = ctx.client.volumes.Create(volumes_pb2.CreateVolumeRequest(
        name=args.name or args.name_flag, driver=args.driver,
        options=key_values(args.opt), labels=key_values(args.label)))
    ctx.out.write(response.volume.name + "\n")
    return 0
