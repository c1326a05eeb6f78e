"""pyctl: the docker-like command line client of pyengined.

Exit codes follow docker's CLI: 0 success, 1 for errors (daemon errors print
"Error response from daemon: ..."), 125 for usage errors (unknown flags, bad arguments).

A well-formed command is parsed by pyengine.cli.args (no argparse: ~9 ms less per command);
help and usage errors by argparse (pyengine.cli.argparser), with the same verb modules.
"""

from __future__ import annotations

import sys

from pyengine.cli.client import ConfigFileError, ConnectError, RpcError, TlsOptions, resolve_host
from pyengine.cli.context import CliError, Context, FormatError

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
    "build": ("build", "Build an image from a Dockerfile"),
}
IMAGE_ALIASES = {"ls": ["list"], "rm": ["remove"]}
TOP_VERBS: dict[str, tuple[str, str]] = {
    "pull": IMAGE_VERBS["pull"],
    "push": IMAGE_VERBS["push"],
    "images": IMAGE_VERBS["ls"],
    "rmi": IMAGE_VERBS["rm"],
    "tag": IMAGE_VERBS["tag"],
    "inspect": ("inspect", "Return low-level information on images"),
    "history": IMAGE_VERBS["history"],
    "save": IMAGE_VERBS["save"],
    "load": IMAGE_VERBS["load"],
    "import": IMAGE_VERBS["import"],
    "build": ("build", "Build an image from a Dockerfile"),
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
        ("diff", "Inspect changes to files or directories on a container's filesystem"),
        ("export", "Export a container's filesystem as a tar archive"),
        ("cp", "Copy files/folders between a container and the local filesystem"),
        ("commit", "Create a new image from a container's changes"),
        ("pause", "Pause all processes within one or more containers"),
        ("unpause", "Unpause all processes within one or more containers"),
        ("top", "Display the running processes of a container"),
        ("stats", "Display a live stream of container(s) resource usage statistics"),
        ("update", "Update configuration of one or more containers"),
        ("attach", "Attach local standard input, output, and error streams to a running "
         "container"),
        ("events", "Get real time events from the server"),
        ("port", "List port mappings or a specific mapping for the container"),
    )},
}
TOP_VERBS["inspect"] = ("inspect", "Return low-level information on containers and images")
CONTAINER_VERBS: dict[str, tuple[str, str]] = {
    **{name: TOP_VERBS[name] for name in (
        "create", "start", "run", "stop", "kill", "rm", "wait", "logs", "exec", "restart",
        "rename", "diff", "export", "cp", "commit", "pause", "unpause", "top", "stats",
        "update", "attach", "port")},
    "ls": ("ps", "List containers"),
    "inspect": ("inspect", "Display detailed information on one or more containers"),
    "prune": ("container_prune", "Remove all stopped containers"),
}
CONTAINER_ALIASES = {"ls": ["ps", "list"]}
SYSTEM_VERBS: dict[str, tuple[str, str]] = {
    "df": ("system_df", "Show disk usage"),
    "info": ("info", "Display system-wide information"),
    "events": ("events", "Get real time events from the server"),
}
NETWORK_VERBS: dict[str, tuple[str, str]] = {
    "create": ("network_create", "Create a network"),
    "ls": ("network_ls", "List networks"),
    "inspect": ("network_inspect", "Display detailed information on one or more networks"),
    "rm": ("network_rm", "Remove one or more networks"),
    "connect": ("network_connect", "Connect a container to a network"),
    "disconnect": ("network_disconnect", "Disconnect a container from a network"),
    "prune": ("network_prune", "Remove all unused networks"),
}
NETWORK_ALIASES = {"ls": ["list"], "rm": ["remove"]}
VOLUME_VERBS: dict[str, tuple[str, str]] = {
    "create": ("volume_create", "Create a volume"),
    "ls": ("volume_ls", "List volumes"),
    "inspect": ("volume_inspect", "Display detailed information on one or more volumes"),
    "rm": ("volume_rm", "Remove one or more volumes"),
    "prune": ("volume_prune", "Remove all unused local volumes"),
}
VOLUME_ALIASES = {"ls": ["list"], "rm": ["remove"]}
BUILDER_VERBS: dict[str, tuple[str, str]] = {
    "build": ("build", "Build an image from a Dockerfile"),
    "prune": ("builder_prune", "Remove build cache"),
    "du": ("builder_du", "Show the build cache's disk usage"),
}
GROUPS = {"image": IMAGE_VERBS, "system": SYSTEM_VERBS, "container": CONTAINER_VERBS,
          "network": NETWORK_VERBS, "volume": VOLUME_VERBS, "builder": BUILDER_VERBS}
TITLES = {"image": "Manage images", "system": "Manage pyengine",
          "container": "Manage containers", "network": "Manage networks",
          "volume": "Manage volumes", "builder": "Manage builds"}
ALIASES: dict[str, dict[str, list[str]]] = {"image": IMAGE_ALIASES,
                                            "container": CONTAINER_ALIASES,
                                            "network": NETWORK_ALIASES,
                                            "volume": VOLUME_ALIASES}
# global flags that take a value (to find the verb in argv before parsing it)
VALUE_FLAGS = ("-H", "--host", "--config", "--tlscacert", "--tlscert", "--tlskey")


class UsageError(Exception):
    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


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


def known(path: list[str]) -> bool:
    """Does `path` (from verb_path) name one verb that exists?"""
    if len(path) == 1:
        return path[0] in TOP_VERBS
    table = GROUPS.get(path[0]) if len(path) == 2 else None
    if table is None:
        return False
    aliases = [a for names in ALIASES.get(path[0], {}).values() for a in names]
    return path[1] in table or path[1] in aliases


def builder(module: str) -> Callable[[Any], None]:
    # __import__, not importlib.import_module: importlib costs ~0.5 ms of pyctl's start-up
    add: Callable[[Any], None] = __import__(f"pyengine.cli.verb_{module}", fromlist=["add"]).add
    return add


def add_globals(parser: Any) -> None:
    """The global flags, on either parser (argparse's or pyengine.cli.args')."""
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


def canonical(group: str, name: str) -> str:
    """A group's verb, aliases resolved ("list" -> "ls")."""
    for verb, aliases in ALIASES.get(group, {}).items():
        if name in aliases:
            return verb
    return name


def fast_parse(argv: list[str]) -> Any:
    """The arguments of a well-formed command line, parsed without argparse
    (pyengine.cli.args); None when argparse must parse it (help, errors, unknown verbs)."""
    from pyengine.cli.args import Fallback, Namespace, Parser

    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        i += 2 if argv[i] in VALUE_FLAGS else 1
    path = argv[i:i + 2] if i < len(argv) and argv[i] in GROUPS else argv[i:i + 1]
    if not path or any(w.startswith("-") for w in path) or not known(path):
        return None
    values: dict[str, Any] = {"verb": path[0]}
    try:
        top = Parser("pyctl")
        add_globals(top)
        top.parse(argv[:i], values)
        if len(path) == 2:
            values[f"{path[0]}_verb"] = path[1]
            name = canonical(path[0], path[1])
            module = GROUPS[path[0]][name][0]
            prog = f"pyctl {path[0]} {name}"
        else:
            module = TOP_VERBS[path[0]][0]
            prog = f"pyctl {path[0]}"
        sub = Parser(prog)
        builder(module)(sub)
        sub.set_defaults(prog=prog)
        sub.parse(argv[i + len(path):], values)
    except Fallback:
        return None
    return Namespace(**values)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = fast_parse(argv)
    if args is None:
        from pyengine.cli.argparser import build_parser

        parser = build_parser(argv)
    try:
        if args is None:
            args, extra = parser.parse_known_args(argv)
        else:
            extra = []
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
        config=args.config,
        out=sys.stdout,
        err=sys.stderr,
    )
    try:
        return int(args.func(ctx, args) or 0)
    except RpcError as err:
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
        sys.stderr.write(f"{err.prefix}{err}\n")
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
