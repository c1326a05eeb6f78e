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
from pyengine.cli.client import ConnectError, TlsOptions, resolve_host
from pyengine.cli.context import CliError, Context
from pyengine.cli.credentials import ConfigFileError, CredentialStore, config_dir
from pyengine.cli.output import FormatError

USAGE_EXIT = 125

# One module per verb (pyengine/cli/verb_<module>.py, with `add(parser)` and `run(ctx, args)`),
# imported only for the verb being run: `pyctl images` pays for images, not for save or login.
# verb -> (module, help); top-level shortcuts are docker's.
IMAGE_VERBS: dict[str, tuple[str, str]] = {
    "ls": ("images", "List images"),
    "pull": ("pull", "Download an image from a registry"),
    "push": ("push", "Upload an image to a registry"),
    "rm": ("rmi", "Remove one or more images"),
    "tag": ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "inspect": ("inspect", "Display detailed information on one or more images"),
    "history": ("history", "Show the history of an image"),
    "save": ("save", "Save one or more images to a tar archive"),
    "load": ("load", "Load an image from a tar archive or STDIN"),
    "import": ("import", "Import the contents from a tarball to create a filesystem image"),
    "prune": ("image_prune", "Remove unused images"),
}
IMAGE_ALIASES = {"ls": ["list"], "rm": ["remove"]}
TOP_VERBS: dict[str, tuple[str, str]] = {
    "pull": IMAGE_VERBS["pull"],
    "push": IMAGE_VERBS["push"],
    "images": IMAGE_VERBS["ls"],
    "rmi": IMAGE_VERBS["rm"],
    "tag": IMAGE_VERBS["tag"],
    "inspect": ("inspect", "Return low-level information on containers and images"),
    "history": IMAGE_VERBS["history"],
    "save": IMAGE_VERBS["save"],
    "load": IMAGE_VERBS["load"],
    "import": IMAGE_VERBS["import"],
    "search": ("search", "Search a registry's catalog for images"),
    "login": ("login", "Log in to a registry"),
    "logout": ("logout", "Log out from a registry"),
    "version": ("version", "Show the pyctl and pyengined versions"),
    "info": ("info", "Display system-wide information"),
    **{name: (name, help_text) for name, help_text in (
        ("create", "Create a new container"),
        ("start", "Start one or more stopped containers"),
        ("run", "Run a command in a new container"),
        ("ps", "List containers"),
        ("stop", "Stop one or more running containers"),
        ("kill", "Kill one or more running containers"),
        ("rm", "Remove one or more containers"),
        ("wait", "Block until one or more containers stop, then print their exit codes"),
        ("logs", "Fetch the logs of a container"),
        ("exec", "Run a command in a running container"),
        ("restart", "Restart one or more containers"),
        ("rename", "Rename a container"),
    )},
}
CONTAINER_VERBS: dict[str, tuple[str, str]] = {
    **{name: TOP_VERBS[name] for name in (
        "create", "start", "run", "stop", "kill", "rm", "wait", "logs", "exec", "restart",
        "rename")},
    "ls": ("ps", "List containers"),
    "inspect": ("inspect", "Display detailed information on one or more containers"),
    "prune": ("container_prune", "Remove all stopped containers"),
}
CONTAINER_ALIASES = {"ls": ["ps", "list"]}
SYSTEM_VERBS: dict[str, tuple[str, str]] = {
    "df": ("system_df", "Show disk usage"),
    "info": ("info", "Display system-wide information"),
}
GROUPS = {"image": IMAGE_VERBS, "system": SYSTEM_VERBS, "container": CONTAINER_VERBS}
TITLES = {"image": "Manage images", "system": "Manage pyengine",
          "container": "Manage containers"}
ALIASES = {"image": IMAGE_ALIASES, "container": CONTAINER_ALIASES}
# global flags that take a value (to find the verb in argv before parsing it)
VALUE_FLAGS = ("-H", "--host", "--config", "--tlscacert", "--tlscert", "--tlskey")


class UsageError(Exception):
    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def verb_path(argv: list[str]) -> list[str]:
    """The verb (and a group's sub-verb) named in `argv`, skipping global flags."""
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--":
            break
        if arg.startswith("-"):
            skip = arg in VALUE_FLAGS
            if words:
                break
            continue
        words.append(arg)
        if len(words) == 2 or words[0] not in GROUPS:
            break
    return words


def _builder(module: str) -> Callable[[argparse.ArgumentParser], None]:
    from importlib import import_module

    add: Callable[[argparse.ArgumentParser], None] = import_module(
        f"pyengine.cli.verb_{module}"
    ).add
    return add


def build_parser(argv: list[str] | None = None) -> Parser:
    """pyctl's parser; only the verb `argv` names gets its arguments (and its module
    imported). With no argv, every verb is built (for tests and completion)."""
    wanted = verb_path(argv) if argv is not None else None
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

    def built(path: list[str]) -> bool:
        return wanted is None or wanted[: len(path)] == path

    for name, (module, help_text) in TOP_VERBS.items():
        _add(verbs, name, help_text, module if built([name]) else None)
    for group, table in GROUPS.items():
        title = TITLES[group]
        sub = verbs.add_parser(group, help=title, description=title)
        group_verbs = sub.add_subparsers(dest=f"{group}_verb", metavar="COMMAND",
                                         parser_class=Parser)
        for name, (module, help_text) in table.items():
            aliases = ALIASES.get(group, {}).get(name, [])
            wanted_here = any(built([group, n]) for n in [name, *aliases])
            _add(group_verbs, name, help_text, module if wanted_here else None, aliases)
    return parser


def _add(
    verbs: argparse._SubParsersAction[Parser], name: str, help_text: str, module: str | None,
    aliases: list[str] | None = None,
) -> None:
    sub = verbs.add_parser(name, help=help_text, description=help_text, aliases=aliases or [])
    if module is not None:
        _builder(module)(sub)
    sub.set_defaults(prog=sub.prog)


def main(argv: list[str] | None = None) -> int:
    import grpc

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
