"""One logical line to one typed instruction (instructions.py), with docker's checks and texts.

`build_instruction` raises InstructionError (message without location); parser.py adds the
file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pyengine.build.dockerfile import arguments as a
from pyengine.build.dockerfile.duration import parse_duration
from pyengine.build.dockerfile.flags import FlagError, parse_flags, split_command
from pyengine.build.dockerfile.heredoc import parse_heredoc, strip_tabs
from pyengine.build.dockerfile.instructions import (
    Arg,
    Cmd,
    Command,
    Copy,
    Entrypoint,
    Env,
    Expose,
    Flag,
    From,
    Healthcheck,
    Heredoc,
    Instruction,
    Label,
    Location,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_ONBUILD_PREFIX = re.compile(r"^\s*ONBUILD\s*", re.IGNORECASE)


class InstructionError(ValueError):
    """An instruction docker rejects; the message is docker's."""


@dataclass(frozen=True)
class Line:
    """What every builder gets: the split line and where it is."""

    keyword: str  # upper case
    rest: str  # the arguments after the flags
    flags: tuple[Flag, ...]
    original: str
    location: Location
    escape: str
    heredocs: tuple[Heredoc, ...]


def _command(line: Line) -> Command:
    args = a.parse_json(line.rest)
    if args is not None:
        return Command(True, tuple(args), line.heredocs)
    return Command(False, (line.rest,) if line.rest else (), line.heredocs)


def _exactly_one(line: Line) -> str:
    if not line.rest:
        raise InstructionError(f"{line.keyword} requires exactly one argument")
    return line.rest


def _base(line: Line) -> tuple[str, str, Location, tuple[Flag, ...]]:
    """Instruction's own fields, in order (keyword, original, location, flags)."""
    return line.keyword, line.original, line.location, line.flags


def _from(line: Line) -> From:
    args = a.split_whitespace(line.rest)
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not STAGE_NAME.match(name):
            raise InstructionError(
                f"invalid name for build stage: {a.go_quote(args[2])}, "
                "name can't start with a number or contain symbols"
            )
    elif len(args) != 1:
        raise InstructionError("FROM requires either one or three arguments")
    platform = line.flags[0].value if line.flags else None
    return From(*_base(line), image=args[0], stage_name=name, platform=platform)


def _run(line: Line) -> Run:
    command = _command(line)  # `RUN` alone parses (docker's rule): an empty command
    mounts = tuple(f.value or "" for f in line.flags if f.name == "mount")
    network, security = _value(line.flags, "network"), _value(line.flags, "security")
    return Run(*_base(line), command=command, mounts=mounts, network=network, security=security)


def _cmd(line: Line) -> Cmd:
    return Cmd(*_base(line), command=_command(line))


def _entrypoint(line: Line) -> Entrypoint:
    return Entrypoint(*_base(line), command=_command(line))


def _shell(line: Line) -> Shell:
    args = a.parse_json(line.rest)
    if not line.rest or args == []:
        raise InstructionError("SHELL requires at least one argument")
    if args is None:
        raise InstructionError("SHELL requires the arguments to be in JSON form")
    return Shell(*_base(line), args=tuple(args))


def _env(line: Line) -> Env:
    return Env(*_base(line), pairs=a.parse_key_values("ENV", line.rest, line.escape))


def _label(line: Line) -> Label:
    return Label(*_base(line), pairs=a.parse_key_values("LABEL", line.rest, line.escape))


def _arg(line: Line) -> Arg:
    return Arg(*_base(line), args=a.parse_arg_decls(line.rest, line.escape))


def _expose(line: Line) -> Expose:
    ports = a.split_whitespace(line.rest)
    if not ports:
        raise InstructionError("EXPOSE requires at least one argument")
    return Expose(*_base(line), ports=tuple(ports))


def _volume(line: Line) -> Volume:
    paths = a.parse_json(line.rest)
    if paths is None:
        paths = a.split_whitespace(line.rest)
    if not paths:
        raise InstructionError("VOLUME requires at least one argument")
    paths = [p.strip() for p in paths]
    if "" in paths:
        raise InstructionError("VOLUME specified can not be an empty string")
    return Volume(*_base(line), paths=tuple(paths))


def _user(line: Line) -> User:
    return User(*_base(line), user=_exactly_one(line))


def _workdir(line: Line) -> Workdir:
    return Workdir(*_base(line), path=_exactly_one(line))


def _stopsignal(line: Line) -> StopSignal:
    return StopSignal(*_base(line), signal=_exactly_one(line))


def _maintainer(line: Line) -> Maintainer:
    return Maintainer(*_base(line), name=_exactly_one(line))


def _copy(line: Line) -> Copy:
    exec_args = a.parse_json(line.rest)
    args = exec_args if exec_args is not None else a.split_whitespace(line.rest)
    if len(args) < 2:
        raise InstructionError(
            f"{line.keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    if parse_heredoc(args[-1]) is not None:
        raise InstructionError(f"{line.keyword} cannot accept a heredoc as a destination")
    by_name = {h.name: h for h in line.heredocs}
    sources: list[str] = []
    heredocs: list[Heredoc] = []
    for word in args[:-1]:
        spec = parse_heredoc(word)
        if spec is not None and spec.name in by_name:
            heredocs.append(by_name[spec.name])
        else:
            sources.append(word)
    return Copy(
        *_base(line),
        sources=tuple(sources),
        dest=args[-1],
        heredocs=tuple(heredocs),
        exec_form=exec_args is not None,
    )


def _check_interval(flag: Flag | None) -> None:
    if flag is None or not flag.value:
        return
    try:
        ns = parse_duration(flag.value)
    except ValueError as exc:
        raise InstructionError(str(exc)) from None
    if 0 < ns < 1_000_000 or ns < 0:
        raise InstructionError(f'Interval "{flag.name}" cannot be less than 1ms')


def _healthcheck(line: Line) -> Healthcheck:
    parts = line.rest.split(None, 1)
    kind = parts[0] if parts else ""
    rest = parts[1] if len(parts) > 1 else ""
    if not kind:
        raise InstructionError("HEALTHCHECK requires at least one argument")
    if kind.upper() == "NONE":
        if rest:
            raise InstructionError("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(*_base(line), command=None)
    if kind.upper() != "CMD":
        raise InstructionError(f'Unknown type "{kind.upper()}" in HEALTHCHECK (try CMD)')
    command = _command(
        Line(line.keyword, rest, line.flags, line.original, line.location, line.escape, ())
    )
    if not command.args:
        raise InstructionError("Missing command after HEALTHCHECK CMD")
    for name in ("interval", "timeout", "start-period", "start-interval"):
        _check_interval(_flag(line.flags, name))
    retries = _flag(line.flags, "retries")
    if retries is not None and retries.value:
        try:
            count = int(retries.value, 10)
        except ValueError:
            raise InstructionError(
                f'strconv.ParseInt: parsing "{retries.value}": invalid syntax'
            ) from None
        if count < 1:  # docker 20.10's rule (BuildKit's newer frontend allows 0)
            raise InstructionError(f"--retries must be at least 1 (not {count})")
    return Healthcheck(
        *_base(line),
        command=command,
        interval=_value(line.flags, "interval"),
        timeout=_value(line.flags, "timeout"),
        start_period=_value(line.flags, "start-period"),
        start_interval=_value(line.flags, "start-interval"),
        retries=_value(line.flags, "retries"),
    )


def _flag(flags: tuple[Flag, ...], name: str) -> Flag | None:
    return next((f for f in flags if f.name == name), None)


def _value(flags: tuple[Flag, ...], name: str) -> str | None:
    flag = _flag(flags, name)
    return flag.value if flag is not None else None


def _onbuild(line: Line) -> Onbuild:
    if not line.rest:
        raise InstructionError("ONBUILD requires at least one argument")
    trigger_keyword = line.rest.split()[0].upper()
    if trigger_keyword == "ONBUILD":
        raise InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger_keyword in ("MAINTAINER", "FROM"):
        raise InstructionError(f"{trigger_keyword} isn't allowed as an ONBUILD trigger")
    trigger = build_instruction(line.rest, line.location, line.escape, line.heredocs)
    text = _ONBUILD_PREFIX.sub("", line.original, count=1)
    for heredoc in line.heredocs:
        text += "\n" + heredoc.content + heredoc.name
    return Onbuild(*_base(line), trigger=trigger, text=text)


BUILDERS: dict[str, Callable[[Line], Instruction]] = {
    "FROM": _from,
    "RUN": _run,
    "CMD": _cmd,
    "ENTRYPOINT": _entrypoint,
    "SHELL": _shell,
    "ENV": _env,
    "LABEL": _label,
    "ARG": _arg,
    "EXPOSE": _expose,
    "VOLUME": _volume,
    "USER": _user,
    "WORKDIR": _workdir,
    "STOPSIGNAL": _stopsignal,
    "MAINTAINER": _maintainer,
    "COPY": _copy,
    "ADD": _copy,
    "HEALTHCHECK": _healthcheck,
    "ONBUILD": _onbuild,
}
HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")


def keyword_of(text: str) -> str:
    """The instruction keyword a logical line starts with, upper case."""
    parts = text.split(None, 1)
    return parts[0].upper() if parts else ""


def build_instruction(
    text: str, location: Location, escape: str, heredocs: tuple[Heredoc, ...] = ()
) -> Instruction:
    """The typed instruction of one logical line (heredoc bodies already read)."""
    written, flag_words, rest = split_command(text, escape)
    keyword = written.upper()
    builder = BUILDERS.get(keyword)
    if builder is None:
        raise InstructionError(f"unknown instruction: {written}")
    try:
        flags = parse_flags(keyword, flag_words)
    except FlagError as exc:
        raise InstructionError(str(exc)) from None
    if keyword not in (*HEREDOC_KEYWORDS, "ONBUILD"):
        heredocs = ()
    line = Line(keyword, rest, flags, text, location, escape, heredocs)
    try:
        return builder(line)
    except a.ArgumentError as exc:
        raise InstructionError(str(exc)) from None


def chomp(heredoc: Heredoc) -> Heredoc:
    """`<<-`: the body without leading tabs."""
    if not heredoc.strip_tabs:
        return heredoc
    return Heredoc(heredoc.name, strip_tabs(heredoc.content), heredoc.expand, True)
