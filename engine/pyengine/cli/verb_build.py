"""pyctl build: build an image from a Dockerfile and a context (a directory, or stdin: a tar
archive or a bare Dockerfile), streamed to the daemon's BuildsService as it is read.

Progress is written to stderr in BuildKit's plain style (pyengine.cli.build_progress); -q
prints only the image id on stdout (and the progress on stderr if the build fails). A failed
build exits 1 (docker's), a usage error 125.
"""

from __future__ import annotations

import os
import sys

from pyengine.cli.context import CliError, Context

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping
    from typing import BinaryIO

    from pyengine.api import build_lean as api
    from pyengine.cli.build_progress import PlainProgress
    from pyengine.cli.wire.channel import BidiCall, Stub

PROGRESS_MODES = ("auto", "plain", "tty")
URL_PREFIXES = ("http://", "https://", "git://", "git@", "github.com/")


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("context", metavar="PATH | URL | -")
    p.add_argument("-t", "--tag", action="append", default=[],
                   help="name and optionally a tag in the 'name:tag' format")
    p.add_argument("-f", "--file", default="",
                   help="name of the Dockerfile (default: 'PATH/Dockerfile'; '-': stdin)")
    p.add_argument("--build-arg", action="append", default=[], help="set build-time variables")
    p.add_argument("--target", default="", help="set the target build stage to build")
    p.add_argument("--no-cache", action="store_true", help="do not use cache when building")
    p.add_argument("--pull", action="store_true", help="always attempt to pull the images")
    p.add_argument("--cache-from", action="append", default=[],
                   help="images to consider as cache sources")
    p.add_argument("--label", action="append", default=[], help="set metadata for an image")
    p.add_argument("--network", default="default",
                   help="set the networking mode for the RUN instructions during build")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="suppress the build output and print image ID on success")
    p.add_argument("--iidfile", default="", help="write the image ID to the file")
    p.add_argument("--platform", default="", help="set platform if server is multi-platform")
    p.add_argument("--secret", action="append", default=[],
                   help="secret to expose to the build: id=mysecret[,src=/path|env=VAR]")
    p.add_argument("--add-host", action="append", default=[],
                   help="add a custom host-to-IP mapping (host:ip)")
    p.add_argument("--progress", default="auto",
                   help="type of progress output (auto, plain, tty)")
    p.set_defaults(func=run)


def _flag_error(value: str, flag: str, reason: str) -> CliError:
    return CliError(f'invalid argument "{value}" for "{flag}" flag: {reason}\n'
                    "See 'pyctl build --help'.", usage=True, prefix="")


def _key_values(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def build_args(items: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """--build-arg NAME=VALUE, or NAME alone: its value from the client's environment (not
    sent when the environment has none), as docker's client does."""
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if eq:
            out[name] = value
        elif name in environ:
            out[name] = environ[name]
    return out


def secret(spec: str, environ: Mapping[str, str]) -> api.BuildSecret:
    """--secret id=ID[,src=PATH|source=PATH][,env=VAR][,type=file|env]: the bytes are read
    here (the daemon never reads the client's files)."""
    from pyengine.api import build_lean as api

    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, eq, value = part.partition("=")
        if not eq:
            raise _flag_error(spec, "--secret", f"invalid field '{part}' must be a key=value pair")
        fields[key.strip().lower()] = value
    sid = fields.get("id", "")
    src = fields.get("src", fields.get("source", ""))
    env = fields.get("env", "")
    kind = fields.get("type", "")
    if not sid:
        raise _flag_error(spec, "--secret", "secret requires an id")
    if kind == "env" and not env:
        env = src or sid
        src = ""
    if not src and not env:
        env = sid if sid in environ else ""
        src = "" if env else sid
    if env and not src:
        if env not in environ:
            raise CliError(f"failed to read secret {sid}: environment variable {env} is not set")
        return api.BuildSecret(id=sid, data=environ[env].encode())
    try:
        with open(os.path.expanduser(src), "rb") as handle:
            return api.BuildSecret(id=sid, data=handle.read())
    except OSError as err:
        raise CliError(f"failed to read secret {sid}: open {src}: "
                       f"{(err.strerror or str(err)).lower()}") from None


def options(args: argparse.Namespace, environ: Mapping[str, str]) -> api.BuildOptions:
    """The BuildOptions of the flags (the context's fields are filled by prepare())."""
    from pyengine import reference
    from pyengine.api import build_lean as api

    for tag in args.tag:
        try:
            reference.parse(tag)
        except reference.InvalidReference as err:
            raise _flag_error(tag, "-t, --tag", str(err)) from None
    if args.progress not in PROGRESS_MODES:
        raise CliError(f"invalid progress mode {args.progress!r}: use auto, plain or tty",
                       usage=True)
    for host in args.add_host:
        name, colon, address = host.partition(":")
        if not colon or not name or not address:
            raise _flag_error(host, "--add-host", f'bad format for add-host: "{host}"')
    return api.BuildOptions(
        tags=list(args.tag), build_args=build_args(args.build_arg, environ),
        target=args.target, no_cache=args.no_cache, pull=args.pull,
        cache_from=list(args.cache_from), labels=_key_values(args.label),
        network="" if args.network == "default" else args.network,
        quiet=args.quiet, platform=args.platform,
        secrets=[secret(s, environ) for s in args.secret], extra_hosts=list(args.add_host),
    )


class Prepared:
    """What is sent: the options, the context's chunks, and for the progress display the
    Dockerfile's name and size (when the client knows them)."""

    def __init__(self, opts: api.BuildOptions, chunks: Iterator[bytes], dockerfile: str,
                 dockerfile_size: int) -> None:
        self.options = opts
        self.chunks = chunks
        self.dockerfile = dockerfile
        self.dockerfile_size = dockerfile_size


def _prepare_error(text: str) -> CliError:
    return CliError(f"unable to prepare context: {text}", prefix="")


def default_dockerfile(root: str) -> str:
    """PATH/Dockerfile, or PATH/dockerfile when only that exists (docker's client)."""
    path = os.path.join(root, "Dockerfile")
    lower = os.path.join(root, "dockerfile")
    return lower if not os.path.lexists(path) and os.path.lexists(lower) else path


def prepare(args: argparse.Namespace, stdin: BinaryIO, environ: Mapping[str, str]) -> Prepared:
    from pyengine.cli import build_context as bc

    opts = options(args, environ)
    where = args.context
    if where.startswith(URL_PREFIXES):
        raise _prepare_error(f"{where}: URL contexts (git, http) are not supported by pyctl "
                             "build; clone or download the context and build from a directory")
    if where == "-":
        if args.file == "-":
            raise CliError("invalid argument: can't use stdin for both build context and "
                           "dockerfile", prefix="")
        piped = bc.read_stdin(stdin)
        if piped.dockerfile is not None:
            opts.dockerfile_content = piped.dockerfile
            return Prepared(opts, iter(()), "Dockerfile", len(piped.dockerfile))
        opts.dockerfile = args.file
        return Prepared(opts, piped.chunks, args.file or "Dockerfile", -1)
    if not os.path.exists(where):
        raise _prepare_error(f'path "{where}" not found')
    root = os.path.abspath(where)
    if not os.path.isdir(root):
        raise _prepare_error(f"context must be a directory: {root}")
    forced = [".dockerignore"]
    if args.file == "-":
        content = stdin.read()
        opts.dockerfile_content = content
        name, size = "Dockerfile", len(content)
    else:
        path = os.path.abspath(args.file or default_dockerfile(root))
        try:
            size = os.stat(path).st_size
        except OSError as err:
            raise _prepare_error(f"unable to evaluate symlinks in Dockerfile path: lstat "
                                 f"{path}: {(err.strerror or str(err)).lower()}") from None
        rel = os.path.relpath(path, root)
        name = os.path.basename(path)
        if rel == ".." or rel.startswith("../"):
            try:
                with open(path, "rb") as handle:
                    opts.dockerfile_content = handle.read()
            except OSError as err:
                raise CliError(f"open {path}: {(err.strerror or str(err)).lower()}") from None
        else:
            opts.dockerfile = rel
            forced.append(rel)
    matcher = None
    try:
        with open(os.path.join(root, ".dockerignore"), encoding="utf-8",
                  errors="surrogateescape") as handle:
            matcher = bc.load_matcher(handle.read())
    except FileNotFoundError:
        pass
    except OSError as err:
        raise CliError(f"open {os.path.join(root, '.dockerignore')}: "
                       f"{(err.strerror or str(err)).lower()}", prefix="") from None
    try:
        chunks = bc.directory_tar(root, matcher, forced)
    except bc.ContextError as err:
        raise CliError(str(err), prefix="") from None
    return Prepared(opts, chunks, name, size)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import build_lean as api
    from pyengine.cli.build_progress import PlainProgress

    if args.iidfile:
        try:
            os.unlink(args.iidfile)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise CliError(f"Removing image ID file: {err}") from None
    prepared = prepare(args, sys.stdin.buffer, os.environ)
    if args.quiet:
        import io

        shown = io.StringIO()
        progress = PlainProgress(shown)
    else:
        progress = PlainProgress(ctx.err)
    definition = progress.begin(f"[internal] load build definition from {prepared.dockerfile}")
    if prepared.dockerfile_size >= 0:
        progress.transferred(definition, "dockerfile", prepared.dockerfile_size)
    else:
        progress.end(definition)
    try:
        stream(ctx.client.lean(api.BuildsService), prepared, progress)
    except BuildFailed as err:
        if args.quiet:
            ctx.err.write(shown.getvalue())
        ctx.err.write(f"ERROR: failed to solve: {err}\n")
        return 1
    result = progress.result
    if result is None:
        raise CliError("the daemon ended the build without an image")
    progress.exported(result)
    if args.iidfile:
        try:
            with open(args.iidfile, "w") as handle:
                handle.write(result.image_id)
        except OSError as err:
            raise CliError(f"Writing image ID file: {err}") from None
    if args.quiet:
        ctx.out.write(result.image_id + "\n")
    return 0


class BuildFailed(Exception):
    """The daemon ended the build with an error (its message)."""


def stream(stub: Stub, prepared: Prepared, progress: PlainProgress) -> None:
    """Send the options and the context's chunks, rendering the events as they come; raises
    BuildFailed when the build fails (connection errors pass as RpcError)."""
    from pyengine.api import build_lean as api
    from pyengine.cli import build_context as bc
    from pyengine.cli.client import RpcError

    call: BidiCall = stub.Build(api.BuildRequest(options=prepared.options))
    try:
        loading = progress.begin("[internal] load build context")
        sent = 0
        for chunk in prepared.chunks:
            if call.ended():
                break  # the daemon answered early (an error): its status says why
            call.send(api.BuildRequest(context=chunk))
            sent += len(chunk)
            _render(call, progress)
        progress.transferred(loading, "context", sent)
        call.done_writing()
        while not call.ended():
            call.read()
            _render(call, progress)
        _render(call, progress)
        call.status()
    except bc.ContextError as err:
        call.cancel()
        raise CliError(str(err), prefix="") from None
    except RpcError as err:
        if err.connect_failed:
            raise
        failure = progress.failure
        raise BuildFailed(failure.message if failure is not None and failure.message
                          else err.details()) from None
    except BaseException:
        call.cancel()
        raise


def _render(call: BidiCall, progress: PlainProgress) -> None:
    for event in call.take():
        progress.event(event)  # type: ignore[arg-type]  # take() gives BuildEvents here
