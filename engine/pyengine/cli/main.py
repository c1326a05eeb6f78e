"""pyctl: the docker-like command line client of pyengined.

Exit codes follow docker's CLI: 0 success, 1 for errors (daemon errors print
"Error response from daemon: ..."), 125 for usage errors (unknown flags, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from pyengine import __version__
from pyengine.cli import commands_images as img
from pyengine.cli import commands_system as sysc
from pyengine.cli.client import ConnectError, TlsOptions, resolve_host
from pyengine.cli.context import CliError, Context
from pyengine.cli.credentials import ConfigFileError, CredentialStore, config_dir
from pyengine.cli.output import FormatError

USAGE_EXIT = 125

# verb -> (help, argument builder); top-level shortcuts are docker's.
Builder = Callable[[argparse.ArgumentParser], None]

IMAGE_VERBS: dict[str, tuple[str, Builder]] = {
    "ls": ("List images", img.add_images),
    "pull": ("Download an image from a registry", img.add_pull),
    "push": ("Upload an image to a registry", img.add_push),
    "rm": ("Remove one or more images", img.add_rmi),
    "tag": ("Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", img.add_tag),
    "inspect": ("Display detailed information on one or more images", img.add_inspect),
    "history": ("Show the history of an image", img.add_history),
    "save": ("Save one or more images to a tar archive", img.add_save),
    "load": ("Load an image from a tar archive or STDIN", img.add_load),
    "import": ("Import the contents from a tarball to create a filesystem image",
               img.add_import),
    "prune": ("Remove unused images", img.add_prune),
}
TOP_VERBS: dict[str, tuple[str, Builder]] = {
    "pull": IMAGE_VERBS["pull"],
    "push": IMAGE_VERBS["push"],
    "images": IMAGE_VERBS["ls"],
    "rmi": IMAGE_VERBS["rm"],
    "tag": IMAGE_VERBS["tag"],
    "inspect": ("Return low-level information on images", img.add_inspect),
    "history": IMAGE_VERBS["history"],
    "save": IMAGE_VERBS["save"],
    "load": IMAGE_VERBS["load"],
    "import": IMAGE_VERBS["import"],
    "search": ("Search a registry's catalog for images", img.add_search),
    "login": ("Log in to a registry", sysc.add_login),
    "logout": ("Log out from a registry", sysc.add_logout),
    "version": ("Show the pyctl and pyengined versions", sysc.add_version),
    "info": ("Display system-wide information", sysc.add_info),
}
SYSTEM_VERBS = {
    "df": ("Show disk usage", sysc.add_df),
    "info": ("Display system-wide information", sysc.add_info),
}


class UsageError(Exception):
    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def build_parser() -> Parser:
    parser = Parser(prog="pyctl", description="A docker-like client for pyengined.")
    parser.add_argument("-H", "--host", default=None,
                        help="daemon socket: unix:///path or tcp://host:port "
                        "(default $PYENGINE_HOST or unix:///run/pyengine/pyengine.sock)")
    parser.add_argument("--config", default=None,
                        help="location of client config files (default $PYCTL_CONFIG or ~/.pyctl)")
    parser.add_argument("-D", "--debug", action="store_true", help="enable debug mode")
    parser.add_argument("--tlsverify", action="store_true", help="use TLS and verify the remote")
    parser.add_argument("--tlscacert", default="", help="trust certs signed only by this CA")
    parser.add_argument("--tlscert", default="", help="path to TLS certificate file")
    parser.add_argument("--tlskey", default="", help="path to TLS key file")
    parser.add_argument("-v", "--version", action="version", version=f"pyctl version {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=Parser)
    for name, (help_text, builder) in TOP_VERBS.items():
        _add(verbs, name, help_text, builder)
    image = verbs.add_parser("image", help="Manage images", description="Manage images")
    image_verbs = image.add_subparsers(dest="image_verb", metavar="COMMAND", parser_class=Parser)
    for name, (help_text, builder) in IMAGE_VERBS.items():
        aliases = {"ls": ["list"], "rm": ["remove"]}.get(name, [])
        _add(image_verbs, name, help_text, builder, aliases)
    system = verbs.add_parser("system", help="Manage pyengine", description="Manage pyengine")
    system_verbs = system.add_subparsers(dest="system_verb", metavar="COMMAND", parser_class=Parser)
    for name, (help_text, builder) in SYSTEM_VERBS.items():
        _add(system_verbs, name, help_text, builder)
    return parser


def _add(
    verbs: argparse._SubParsersAction[Parser], name: str, help_text: str, builder: Builder,
    aliases: list[str] | None = None,
) -> None:
    sub = verbs.add_parser(name, help=help_text, description=help_text, aliases=aliases or [])
    builder(sub)
    sub.set_defaults(prog=sub.prog)


def main(argv: list[str] | None = None) -> int:
    import grpc

    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            prog = getattr(args, "prog", "pyctl")
            if extra[0].startswith("-"):
                raise UsageError(f"unknown flag: {extra[0]}", prog)
            raise UsageError(f"unexpected argument {extra[0]!r}", prog)
    except UsageError as err:
        sys.stderr.write(f"{err.prog}: {err}\nSee '{err.prog} --help'.\n")
        return USAGE_EXIT
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr if args.verb else sys.stdout)
        return USAGE_EXIT if args.verb else 0
    host = resolve_host(args.host)
    ctx = Context(
        host=host,
        tls=TlsOptions(args.tlsverify, args.tlscacert, args.tlscert, args.tlskey),
        credentials=CredentialStore(config_dir(args.config)),
        out=sys.stdout,
        err=sys.stderr,
    )
    try:
        return int(args.func(ctx, args) or 0)
    except grpc.RpcError as err:
        if ctx.is_connect_error(err):
            sys.stderr.write(
                f"Cannot connect to the pyengine daemon at {host}. Is the pyengine daemon "
                "running?\n"
            )
            if args.debug:
                sys.stderr.write(f"{err.details()}\n")
            return 1
        sys.stderr.write(f"Error response from daemon: {err.details()}\n")
        return 1
    except CliError as err:
        sys.stderr.write(f"Error: {err}\n")
        return USAGE_EXIT if err.usage else 1
    except FormatError as err:
        sys.stderr.write(f"Error: {err}\n")
        return USAGE_EXIT
    except (ConnectError, ConfigFileError) as err:
        sys.stderr.write(f"Error: {err}\n")
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
