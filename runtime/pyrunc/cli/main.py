"""pyrunc's entry point: runc's global flags, then one module per verb (imported on demand so a
verb pays only for what it uses). Typed errors become an exit status and one log line here."""

from __future__ import annotations

import os
import sys

from pyrunc import log
from pyrunc.cli.args import BOOL, VALUE, Flag, parse
from pyrunc.errors import PyruncError, UsageError

GLOBAL_FLAGS = [
    Flag("debug", BOOL, help="enable debug logging"),
    Flag("log", VALUE, "", help="set the log file to write runtime logs to (default: stderr)"),
    Flag("log-format", VALUE, "text", help="set the log format ('text' (default), or 'json')"),
    Flag("root", VALUE, None, help="root directory for storage of container state "
                                   "(default: /run/pyrunc)"),
    Flag("criu", VALUE, "criu", help="path to the criu binary (checkpoint is not supported)"),
    Flag("systemd-cgroup", BOOL, help="use the systemd cgroup driver (not supported)"),
    Flag("rootless", VALUE, "auto", help="ignore cgroup permission errors ('true', 'false', "
                                         "or 'auto')"),
    Flag("help,h", BOOL, help="show help"),
    Flag("version,v", BOOL, help="print the version"),
]

VERBS = {
    "create": "create container", "start": "executes the user defined process in a created "
    "container", "run": "create and run a container", "state": "output the state of a container",
    "kill": "kill sends the specified signal (default: SIGTERM) to the container's init process",
    "delete": "delete any resources held by the container often used with detached container",
    "list": "lists containers started by pyrunc with the given root", "spec": "create a new "
    "specification file", "pause": "pause suspends all processes inside the container",
    "resume": "resumes all processes that have been previously paused",
    "ps": "ps displays the processes running inside a container",
    "exec": "execute new process inside the container",
    "update": "update container resource constraints",
    "events": "display container events such as OOM notifications, cpu, memory, and IO usage "
    "statistics",
    "features": "show the enabled features",
    "validate": "validate a bundle's config.json against the OCI runtime-spec schema",
}


class Context:
    """Global options every verb sees."""

    def __init__(self, opts: dict) -> None:
        self.root: str = opts["root"] or default_root()
        self.debug: bool = opts["debug"]
        self.systemd_cgroup: bool = opts["systemd_cgroup"]
        self.rootless: str = opts["rootless"]

    @property
    def is_rootless(self) -> bool:
        """--rootless true|false|auto (auto: not running as root)."""
        if self.rootless in ("true", "false"):
            return self.rootless == "true"
        return os.geteuid() != 0


def default_root() -> str:
    if os.geteuid() == 0:
        return "/run/pyrunc"
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime_dir, "pyrunc") if runtime_dir else f"/tmp/pyrunc-{os.geteuid()}"


def usage() -> str:
    lines = ["NAME:", "   pyrunc - an OCI runtime with runc's command line", "", "USAGE:",
             "   pyrunc [global options] command [command options] [arguments...]", "",
             "COMMANDS:"]
    lines += [f"   {name:<10}{text}" for name, text in VERBS.items()]
    lines += ["", "GLOBAL OPTIONS:"]
    for f in GLOBAL_FLAGS:
        names = ", ".join(("--" if len(n) > 1 else "-") + n for n in f.names)
        lines.append(f"   {names:<22}{f.help}")
    return "\n".join(lines) + "\n"


def _wants_help(args: list[str]) -> bool:
    for arg in args:
        if arg in ("-h", "--help", "-help"):
            return True
        if not arg.startswith("-"):
            return False
    return False


def verb_help(verb: str, module: object) -> str:
    from pyrunc.cli.args import help_text

    doc = (module.__doc__ or "").strip().splitlines()
    usage = f"NAME:\n   pyrunc {verb} - {VERBS[verb]}\n\nUSAGE:\n   {doc[0] if doc else verb}"
    return help_text(usage, getattr(module, "FLAGS", []))


def version_text() -> str:
    from pyrunc import OCI_VERSION, __version__
    from pyrunc.version import commit

    return (f"pyrunc version {__version__}\ncommit: {commit()}\nspec: {OCI_VERSION}\n"
            f"python: {sys.version.split()[0]}\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = parse(argv, GLOBAL_FLAGS, interspersed=False)
    except UsageError as err:
        log.error(str(err))
        return 1
    if opts["log_format"] not in ("text", "json"):
        log.error(f"invalid log-format: {opts['log_format']}")
        return 1
    log.configure(opts["log"], opts["log_format"], opts["debug"])
    if opts["version"]:
        sys.stdout.write(version_text())
        return 0
    if not rest or opts["help"] or rest[0] == "help":
        sys.stdout.write(usage())
        return 0
    verb, args = rest[0], rest[1:]
    if verb not in VERBS:
        log.error(f"No help topic for '{verb}'")
        return 1
    try:
        module = __import__(f"pyrunc.cli.verb_{verb}", fromlist=["run"])
        if _wants_help(args):
            sys.stdout.write(verb_help(verb, module))
            return 0
        return module.run(Context(opts), args)
    except PyruncError as err:
        log.error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as err:
        # A bug if it gets here (every expected failure is a PyruncError), but the caller
        # (containerd, podman) still deserves one line, not a traceback.
        _debug_traceback()
        log.error(f"{verb}: {err}")
        return 1
    except Exception as err:  # the edge: any bug still ends as one line
        _debug_traceback()
        log.error(f"{verb}: internal error: {type(err).__name__}: {_one_line(str(err))}"
                  " (run with --debug for a traceback)")
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _debug_traceback() -> None:
    """With --debug, the traceback of the exception being handled, on the log."""
    if log.debug_enabled():
        import traceback

        log.debug("".join(traceback.format_exc()).rstrip())


if __name__ == "__main__":
    sys.exit(main())
