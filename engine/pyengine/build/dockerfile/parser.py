"""A Dockerfile's text to its typed instructions and stages (docker's dockerfile frontend rules).

lexer.py gives logical lines (directives, continuations, comments), heredoc.py the heredocs a
RUN/COPY/ADD line names (their bodies are read right after it), commands.py the typed
instruction. Here: the stages (ARGs before the first FROM are the global args; stage names are
unique) and every error as DockerfileError("FILE:LINE: message").
"""

from __future__ import annotations

from pyengine.build.dockerfile.commands import (
    HEREDOC_KEYWORDS,
    InstructionError,
    build_instruction,
    chomp,
    keyword_of,
)
from pyengine.build.dockerfile.heredoc import HeredocError, heredocs_in
from pyengine.build.dockerfile.instructions import (
    Arg,
    Dockerfile,
    From,
    Heredoc,
    Instruction,
    Location,
    Stage,
)
from pyengine.build.dockerfile.lexer import LexError, LineReader, LogicalLine
from pyengine.build.errors import DockerfileError


def _error(file: str, line: int, message: str, keyword: str = "") -> DockerfileError:
    """docker's message, prefixed with where it is (and the instruction, if it does not say)."""
    if keyword and keyword not in message.upper():
        message = f"{keyword}: {message}"
    return DockerfileError(f"{file}:{line}: {message}")


def _may_have_heredocs(text: str) -> bool:
    keyword = keyword_of(text)
    if keyword == "ONBUILD":
        keyword = keyword_of(text.split(None, 1)[1]) if len(text.split(None, 1)) > 1 else ""
    return keyword in HEREDOC_KEYWORDS and "<<" in text


def _heredocs(reader: LineReader, logical: LogicalLine) -> tuple[Heredoc, ...]:
    if not _may_have_heredocs(logical.text):
        return ()
    try:
        specs = heredocs_in(logical.text)
    except HeredocError as exc:
        raise LexError(str(exc), logical.line, keyword_of(logical.text)) from None
    docs: list[Heredoc] = []
    for spec in specs:
        try:
            body = reader.read_heredoc(spec.name, spec.strip_tabs, logical.line)
        except LexError as exc:
            raise LexError(str(exc), exc.line, keyword_of(logical.text)) from None
        docs.append(chomp(Heredoc(spec.name, body, spec.expand, spec.strip_tabs)))
    return tuple(docs)


def _instructions(text: str, file: str) -> tuple[list[Instruction], LineReader]:
    reader = LineReader(text)
    found: list[Instruction] = []
    while True:
        try:
            logical = reader.next_line()
            if logical is None:
                return found, reader
            heredocs = _heredocs(reader, logical)
        except LexError as exc:
            raise _error(file, exc.line, str(exc), exc.keyword) from None
        location = Location(file, logical.line, reader.pos)
        try:
            found.append(
                build_instruction(logical.text, location, reader.directives.escape, heredocs)
            )
        except InstructionError as exc:
            raise _error(file, logical.line, str(exc), keyword_of(logical.text)) from None


def _stages(found: list[Instruction], file: str) -> tuple[tuple[Arg, ...], tuple[Stage, ...]]:
    global_args: list[Arg] = []
    stages: list[Stage] = []
    names: set[str] = set()
    base: From | None = None
    body: list[Instruction] = []

    def close() -> None:
        if base is not None:
            stages.append(Stage(len(stages), base.stage_name, base, tuple(body)))

    for inst in found:
        if isinstance(inst, From):
            close()
            if inst.stage_name and inst.stage_name in names:
                raise _error(
                    file, inst.location.line, f'duplicate stage name "{inst.stage_name}"', "FROM"
                )
            names.add(inst.stage_name)
            base, body = inst, []
        elif base is None:
            if not isinstance(inst, Arg):
                raise _error(file, inst.location.line, "no build stage in current context")
            global_args.append(inst)
        else:
            body.append(inst)
    close()
    return tuple(global_args), tuple(stages)


def parse(text: str, file: str = "Dockerfile") -> Dockerfile:
    """The typed Dockerfile; DockerfileError("FILE:LINE: message") for what docker rejects."""
    found, reader = _instructions(text, file)
    if not found:
        raise _error(file, max(reader.pos, 1), "file with no instructions")
    global_args, stages = _stages(found, file)
    if not stages:
        raise _error(file, found[-1].location.line, "no build stage in current context")
    return Dockerfile(
        file=file,
        escape=reader.directives.escape,
        syntax=reader.directives.syntax,
        global_args=global_args,
        stages=stages,
        warnings=tuple(reader.warnings),
    )
