"""Heredocs on RUN/COPY/ADD lines: detection, delimiters, quoting, bodies (docker's rules)."""

from __future__ import annotations

import pytest
from pyengine.build.dockerfile.expand import expand_heredoc
from pyengine.build.dockerfile.heredoc import (
    HeredocError,
    HeredocSpec,
    heredocs_in,
    parse_heredoc,
    strip_tabs,
)
from pyengine.build.dockerfile.instructions import Copy, Heredoc, Onbuild, Run
from pyengine.build.dockerfile.parser import parse
from pyengine.build.errors import DockerfileError


@pytest.mark.parametrize(
    "word",
    ["<<EOF", "<<'EOF'", '<<"EOF"', "<<-EOF", "<<-'EOF'", '<<-"EOF"', '<<EO"F"', "<< EOF",
     "<<- EOF", "3<<EOF"],
)
def test_words_that_name_a_heredoc(word: str) -> None:
    spec = parse_heredoc(word)
    assert spec is not None and spec.name == "EOF"


@pytest.mark.parametrize("word", ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"])
def test_words_that_do_not(word: str) -> None:
    assert parse_heredoc(word) is None


@pytest.mark.parametrize("word", ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"'])
def test_unbalanced_quotes_are_errors(word: str) -> None:
    with pytest.raises(HeredocError):
        parse_heredoc(word)


@pytest.mark.parametrize(
    ("word", "spec"),
    [
        ("<<EOF", HeredocSpec("EOF", True, False)),
        ("<<-EOF", HeredocSpec("EOF", True, True)),
        ("<<'EOF'", HeredocSpec("EOF", False, False)),
        ('<<"EOF"', HeredocSpec("EOF", False, False)),
        ("<<eo'f'", HeredocSpec("eof", False, False)),  # any quoted part: no expansion
        ("<<eo\\'f", HeredocSpec("eo'f", True, False)),  # an escaped quote is no quoting
        ("<<'e'o\\'f", HeredocSpec("eo'f", False, False)),
        ("<<$EOF", HeredocSpec("$EOF", True, False)),  # no variables in delimiters
        ("<<file.txt", HeredocSpec("file.txt", True, False)),
    ],
)
def test_delimiters_and_expansion(word: str, spec: HeredocSpec) -> None:
    assert parse_heredoc(word) == spec


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("RUN <<EOF", ["EOF"]),
        ("RUN <<EOF bash", ["EOF"]),
        ("RUN <<EOF1 <<EOF2", ["EOF1", "EOF2"]),
        ("COPY <<A <<B /dest", ["A", "B"]),
        ("RUN cat <<EOF > /out", ["EOF"]),
        ("RUN <<'one two'", ["one two"]),
        ('RUN "<<NOHEREDOC"', []),
        ('RUN ["<<EOF"]', []),
        # docker's lexer keeps the blanks after `<<` in the word: `<< b` names "b"
        ("RUN cat << b", ["b"]),
        ("RUN echo a<b", []),
    ],
)
def test_heredocs_named_on_a_line(line: str, names: list[str]) -> None:
    assert [s.name for s in heredocs_in(line)] == names


def test_strip_tabs_removes_only_leading_tabs() -> None:
    assert strip_tabs("\thello\n\t\tworld \t\n  sp\n") == "hello\nworld \t\n  sp\n"


def _stage(text: str) -> tuple[object, ...]:
    return parse("FROM busybox\n" + text).stages[0].instructions


def test_run_heredoc_body_and_location() -> None:
    (run,) = _stage("RUN <<EOF\nset -e\necho $HOME\nEOF\n")
    assert isinstance(run, Run)
    assert run.command.shell_text == "<<EOF"
    assert run.command.heredocs == (Heredoc("EOF", "set -e\necho $HOME\n", True, False),)
    assert (run.location.line, run.location.end_line) == (2, 5)


def test_body_keeps_comments_blank_lines_and_backslashes() -> None:
    run, _ = _stage("RUN <<EOF\n# not a comment\n\necho a \\\necho b\nEOF\nRUN true\n")
    assert isinstance(run, Run)
    assert run.command.heredocs[0].content == "# not a comment\n\necho a \\\necho b\n"


def test_empty_body_and_interpreter_after_the_delimiter() -> None:
    run1, run2 = _stage("RUN <<EMPTY\nEMPTY\nRUN <<COMPLEX python3\nprint('hi')\nCOMPLEX\n")
    assert isinstance(run1, Run) and isinstance(run2, Run)
    assert run1.command.heredocs[0].content == ""
    assert run2.command.shell_text == "<<COMPLEX python3"
    assert run2.command.heredocs[0].content == "print('hi')\n"


def test_dash_strips_tabs_from_body_and_terminator() -> None:
    (run,) = _stage("RUN <<-EOF\n\tbaz\n\tquux\n\tEOF\n")
    assert isinstance(run, Run)
    assert run.command.heredocs == (Heredoc("EOF", "baz\nquux\n", True, True),)


def test_without_dash_an_indented_terminator_is_body() -> None:
    (run,) = _stage("RUN <<EOF\n\tfoo\n\tEOF\nEOF\n")
    assert isinstance(run, Run)
    assert run.command.heredocs[0].content == "\tfoo\n\tEOF\n"


def test_several_heredocs_are_read_in_order() -> None:
    (copy,) = _stage("COPY <<X <<Y /dest/\nY\nX\nX\nY\n")
    assert isinstance(copy, Copy)
    assert copy.sources == ()
    assert copy.dest == "/dest/"
    assert [(h.name, h.content) for h in copy.heredocs] == [("X", "Y\n"), ("Y", "X\n")]


def test_copy_heredoc_quoted_is_not_expanded_and_mixes_with_files() -> None:
    (copy,) = _stage('COPY a.txt <<"EOT" /etc/\nhello $USER\nEOT\n')
    assert isinstance(copy, Copy)
    assert copy.sources == ("a.txt",)
    assert copy.heredocs == (Heredoc("EOT", "hello $USER\n", False, False),)


def test_add_heredoc_with_flags() -> None:
    (add,) = _stage("ADD --chmod=755 <<EOF /usr/bin/hello\n#!/bin/sh\necho hi\nEOF\n")
    assert isinstance(add, Copy) and add.is_add
    assert add.flag("chmod") is not None
    assert add.heredocs[0].content == "#!/bin/sh\necho hi\n"


def test_run_with_mount_flag_and_heredoc() -> None:
    (run,) = _stage("RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n")
    assert isinstance(run, Run)
    assert run.mounts == ("type=cache,target=/foo",)
    assert run.command.heredocs[0].content == "echo hello\n"


def test_heredoc_then_more_instructions() -> None:
    insts = _stage("RUN <<EOF\necho 1\nEOF\nENV A=b\nRUN <<EOF\necho 2\nEOF\n")
    assert [type(i).__name__ for i in insts] == ["Run", "Env", "Run"]
    assert insts[2].location.line == 6  # type: ignore[attr-defined]  # Instruction has it


def test_other_instructions_have_no_heredocs() -> None:
    # docker reads heredocs only for RUN/COPY/ADD: `INVALID` is then the next instruction.
    with pytest.raises(DockerfileError, match=r"^Dockerfile:3: unknown instruction: INVALID$"):
        parse("FROM busybox\nUSER <<INVALID\nINVALID\n")


def test_onbuild_run_heredoc() -> None:
    (onbuild,) = _stage("ONBUILD RUN <<EOF\necho hi\nEOF\n")
    assert isinstance(onbuild, Onbuild) and isinstance(onbuild.trigger, Run)
    assert onbuild.trigger.command.heredocs[0].content == "echo hi\n"
    assert onbuild.text == "RUN <<EOF\necho hi\nEOF"


def test_json_form_has_no_heredocs() -> None:
    (run,) = _stage('RUN ["<<EOF"]\n')
    assert isinstance(run, Run)
    assert run.command.exec_form and run.command.heredocs == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RUN <<EOF\necho\n", "Dockerfile:2: RUN: unterminated heredoc"),
        ("RUN <<A <<B\nx\nA\n", "Dockerfile:2: RUN: unterminated heredoc"),
        ("COPY a <<EOF\nx\nEOF\n", "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
        # a line docker's word lexer cannot split names no heredoc: `x` is then an instruction
        ("RUN <<'EOF\nx\n", "Dockerfile:3: unknown instruction: x"),
    ],
)
def test_heredoc_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse("FROM busybox\n" + text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("content", "want"),
    [
        ("\"foo\"\n'bar'\n", "\"foo\"\n'bar'\n"),  # quotes stay (docker's SkipProcessQuotes)
        ("x=$A y=${B:-two} '$A'\n", "x=1 y=two '1'\n"),
        ("\\$A costs \\\\ 5\n", "$A costs \\ 5\n"),
        ("$UNSET.\n", ".\n"),
        ("a\\\nb\n", "a\nb\n"),  # an escaped newline is a newline
    ],
)
def test_expand_heredoc_keeps_quotes(content: str, want: str) -> None:
    assert expand_heredoc(content, {"A": "1"}) == want
