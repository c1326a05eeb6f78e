"""The create/run flags of pyctl, shared by verb_create and verb_run, and their request."""

from __future__ import annotations

from pyengine.cli.context import CliError

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse

    from pyengine.api import containers_lean
    from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    # -h is --hostname here, as in docker; --help stays (argument groups copy the handler);
    # pyengine.cli.args' parser takes the same attribute
    p.conflict_handler = "resolve"
    if hasattr(p, "_optionals"):  # argparse's
        p._optionals.conflict_handler = "resolve"
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs="...", metavar="COMMAND")  # argparse.REMAINDER
    p.add_argument("--name", default="", help="assign a name to the container")
    p.add_argument("-e", "--env", action="append", default=[], help="set environment variables")
    p.add_argument("--env-file", action="append", default=[],
                   help="read in a file of environment variables")
    p.add_argument("-w", "--workdir", default="", help="working directory inside the container")
    p.add_argument("-u", "--user", default="", help="username or UID (<name|uid>[:<group|gid>])")
    p.add_argument("--entrypoint", default=None, help="overwrite the default ENTRYPOINT")
    p.add_argument("-h", "--hostname", default="", help="container host name")
    p.add_argument("-l", "--label", action="append", default=[], help="set meta data")
    p.add_argument("-m", "--memory", default="", help="memory limit")
    p.add_argument("--cpus", default="", help="number of CPUs")
    p.add_argument("--pids-limit", type=int, default=0, help="tune container pids limit")
    p.add_argument("--runtime", default="", help="runtime to use for this container")
    p.add_argument("--read-only", action="store_true", help="mount the root filesystem read-only")
    p.add_argument("--stop-signal", default="", help="signal to stop the container")
    p.add_argument("--stop-timeout", type=int, default=None, help="timeout (in seconds) to stop")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="keep STDIN open (fed from pyctl's stdin by run)")
    p.add_argument("--log-opt", action="append", default=[], help="log driver options")
    p.add_argument("--restart", default="no",
                   help="restart policy: no, always, unless-stopped, on-failure[:N]")


def env_files(paths: list[str]) -> list[str]:
    """docker's --env-file: KEY=VALUE lines, # comments and blank lines skipped; a bare KEY
    takes the client's value (and is left out when the client has none)."""
    import os

    out = []
    for path in paths:
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()
        except OSError as err:
            raise CliError(f"open {path}: {err.strerror}", usage=True) from None
        for line in lines:
            line = line.lstrip()
            if not line or line.startswith("#"):
                continue
            key, sep, _ = line.partition("=")
            if not key or " " in key:
                raise CliError(f"invalid environment variable in {path}: {line}", usage=True)
            if sep:
                out.append(line)
            elif key in os.environ:
                out.append(f"{key}={os.environ[key]}")
    return out


def _bytes(text: str) -> int:
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    raw = text.strip().lower()
    try:
        if raw and raw[-1] in units:
            return int(float(raw[:-1]) * units[raw[-1]])
        return int(raw)
    except ValueError:
        raise CliError(f"invalid size: '{text}'", usage=True) from None


def request(args: argparse.Namespace, auto_remove: bool = False
            ) -> containers_lean.CreateContainerRequest:
    from pyengine.api import containers_lean

    if auto_remove and args.restart not in ("", "no"):
        raise CliError("Conflicting options: --restart and --rm", usage=True)
    labels = {}
    for item in args.label:
        key, _, value = item.partition("=")
        labels[key] = value
    nano_cpus = 0
    if args.cpus:
        try:
            nano_cpus = int(float(args.cpus) * 1e9)
        except ValueError:
            raise CliError(f'invalid argument "{args.cpus}" for "--cpus" flag', usage=True) \
                from None
    log_max_size, log_max_file = 0, 1
    for opt in args.log_opt:
        key, _, value = opt.partition("=")
        if key == "max-size":
            log_max_size = _bytes(value)
        elif key == "max-file":
            log_max_file = int(value)
        else:
            raise CliError(f"unknown log opt '{key}' for json-file log driver", usage=True)
    env = [*env_files(args.env_file), *args.env]
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    entrypoint = args.entrypoint
    return containers_lean.CreateContainerRequest(
        name=args.name, image=args.image, cmd=command,
        entrypoint=[entrypoint] if entrypoint else [], entrypoint_set=entrypoint is not None,
        env=env, workdir=args.workdir, user=args.user, hostname=args.hostname,
        labels=labels, tty=args.tty, memory=_bytes(args.memory) if args.memory else 0,
        nano_cpus=nano_cpus, pids_limit=args.pids_limit, runtime=args.runtime,
        read_only=args.read_only, stop_signal=args.stop_signal,
        stop_timeout=args.stop_timeout or 0, stop_timeout_set=args.stop_timeout is not None,
        auto_remove=auto_remove, log_max_size=log_max_size, log_max_file=log_max_file,
        restart=args.restart, open_stdin=args.interactive,
    )


def create(ctx: Context, request: containers_lean.CreateContainerRequest) -> str:
    """Create; an image missing locally is pulled first (progress on stderr), as docker's
    client does. Returns the new container's id."""
    from pyengine.api import containers_lean
    from pyengine.cli.wire import status as rpc

    stub = ctx.client.lean(containers_lean.ContainersService)
    try:
        return str(stub.Create(request).id)
    except rpc.RpcError as err:
        if err.code() != rpc.NOT_FOUND or "No such image" not in (err.details()
                                                                               or ""):
            raise
    from pyengine import reference
    from pyengine.api import images_pb2  # the pull (and its auth) through protobuf's classes
    from pyengine.cli.progress_view import follow

    try:  # docker names it tagged: Unable to find image 'nosuchimage:latest' locally
        shown = reference.parse(request.image).familiar()
    except reference.InvalidReference:
        shown = request.image
    ctx.err.write(f"Unable to find image '{shown}' locally\n")
    final = follow(ctx.client.images.Pull(images_pb2.PullRequest(
        reference=request.image, auth=ctx.auth_for(request.image))), ctx.err, False)
    if final:
        ctx.err.write(final + "\n")
    return str(stub.Create(request).id)
