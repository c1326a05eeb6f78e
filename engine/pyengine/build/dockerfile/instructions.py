"""A parsed Dockerfile: one typed value per instruction, its words as written.

The parser (parser.py) decides what each instruction's words are: its flags, its JSON or shell
form, its key=value pairs, its heredocs. It expands nothing: variables are substituted when a
stage is built (expand.py), since their values come from ARG, ENV and --build-arg. A `Word` is
therefore raw text, quotes and escapes included, for instructions docker expands (ADD, COPY,
ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, and ONBUILD's with these); the
commands of RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK are kept as written (the shell in the
container expands them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Word = str  # raw text: quotes, escapes and $VARS as written


@dataclass(frozen=True)
class Location:
    """Where an instruction is: its file (as the user named it) and 1-based lines."""

    file: str
    line: int
    end_line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Flag:
    """`--name=value` (or `--name` alone: value None) before an instruction's arguments."""

    name: str
    value: Word | None


@dataclass(frozen=True)
class Heredoc:
    """`<<EOF` ... `EOF` after RUN, COPY or ADD (and `<<-EOF`, whose lines lose leading tabs)."""

    name: str  # the delimiter word, unquoted
    content: str  # the lines between, each ending in "\n"
    expand: bool  # an unquoted delimiter: $VARS in content are expanded (for COPY/ADD)
    strip_tabs: bool  # <<-


@dataclass(frozen=True)
class Command:
    """The command of RUN, CMD, ENTRYPOINT (and HEALTHCHECK CMD): exec (JSON) or shell form."""

    exec_form: bool
    args: tuple[str, ...]  # exec form: the JSON strings; shell form: one string, as written
    heredocs: tuple[Heredoc, ...] = ()  # RUN <<EOF: the shell form's text names them

    @property
    def shell_text(self) -> str:
        return self.args[0] if not self.exec_form and self.args else ""


@dataclass(frozen=True)
class Instruction:
    """What every instruction has."""

    keyword: str  # upper case, e.g. "RUN"
    original: str  # as written, continuations joined with the line breaks removed
    location: Location
    flags: tuple[Flag, ...]

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class From(Instruction):
    image: Word  # may name an earlier stage, or `scratch`
    stage_name: str  # `AS name`, lower-cased; "" when there is none
    platform: Word | None  # --platform


@dataclass(frozen=True)
class Run(Instruction):
    command: Command
    mounts: tuple[Word, ...]  # each --mount's csv, raw
    network: Word | None  # --network=default|none|host
    security: Word | None  # --security=insecure|sandbox


@dataclass(frozen=True)
class Cmd(Instruction):
    command: Command


@dataclass(frozen=True)
class Entrypoint(Instruction):
    command: Command


@dataclass(frozen=True)
class Shell(Instruction):
    args: tuple[str, ...]  # JSON form only (docker's rule)


@dataclass(frozen=True)
class KeyValue:
    key: Word
    value: Word


@dataclass(frozen=True)
class Env(Instruction):
    pairs: tuple[KeyValue, ...]  # `ENV a=b c=d`, or the legacy `ENV a b c` as one pair


@dataclass(frozen=True)
class Label(Instruction):
    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True)
class ArgDecl:
    name: str
    default: Word | None  # `ARG name=default`; None for `ARG name`


@dataclass(frozen=True)
class Arg(Instruction):
    args: tuple[ArgDecl, ...]


@dataclass(frozen=True)
class Expose(Instruction):
    ports: tuple[Word, ...]


@dataclass(frozen=True)
class Volume(Instruction):
    paths: tuple[Word, ...]  # JSON form or whitespace-separated words


@dataclass(frozen=True)
class User(Instruction):
    user: Word  # user[:group]


@dataclass(frozen=True)
class Workdir(Instruction):
    path: Word


@dataclass(frozen=True)
class StopSignal(Instruction):
    signal: Word


@dataclass(frozen=True)
class Copy(Instruction):
    """COPY and ADD. Flags: --from, --chown, --chmod, --link, --parents, --exclude (COPY);
    --chown, --chmod, --link, --checksum, --keep-git-dir (ADD)."""

    sources: tuple[Word, ...]  # at least one (or heredocs instead)
    dest: Word
    heredocs: tuple[Heredoc, ...] = ()  # COPY <<EOF /dest: each heredoc is a source file
    exec_form: bool = False  # COPY ["a b", "/dest/"]

    @property
    def is_add(self) -> bool:
        return self.keyword == "ADD"


@dataclass(frozen=True)
class Healthcheck(Instruction):
    """`HEALTHCHECK NONE` (command None) or `HEALTHCHECK [--interval ...] CMD ...`."""

    command: Command | None
    interval: Word | None = None
    timeout: Word | None = None
    start_period: Word | None = None
    start_interval: Word | None = None
    retries: Word | None = None


@dataclass(frozen=True)
class Onbuild(Instruction):
    trigger: Instruction  # the nested instruction (not ONBUILD, FROM or MAINTAINER)
    text: str  # the trigger as written, stored in the image config's OnBuild


@dataclass(frozen=True)
class Maintainer(Instruction):
    name: str


@dataclass(frozen=True)
class Stage:
    """One FROM and the instructions up to the next."""

    index: int
    name: str  # `AS name` lower-cased, else ""
    base: From
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Dockerfile:
    file: str  # the name errors use ("Dockerfile", "-", "build/Dockerfile.dev")
    escape: str  # "\\" or "`" (the escape directive)
    syntax: str | None  # the syntax directive, recorded (no frontend is fetched)
    global_args: tuple[Arg, ...]  # ARGs before the first FROM
    stages: tuple[Stage, ...]
    warnings: tuple[str, ...] = field(default=())

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or by index."""
        lowered = ref.lower()
        for stage in self.stages:
            if stage.name and stage.name == lowered:
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None
