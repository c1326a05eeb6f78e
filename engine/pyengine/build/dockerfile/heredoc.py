"""Heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`) named on a RUN, COPY or ADD line.

Docker's rules: the line is split into words keeping quotes and escapes; a word of the form
`[n]<<[-]WORD` names a heredoc (several per line are read in order). A quoted delimiter (any
part of it quoted) means the body is not expanded. `<<-` strips leading tabs from the body's
lines and from the terminator line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyengine.build.dockerfile.expand import ExpandError, Lexer

_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$", re.DOTALL)
_NO_ENV: dict[str, str] = {}
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


class HeredocError(ValueError):
    """A heredoc word docker's lexer rejects."""


@dataclass(frozen=True)
class HeredocSpec:
    name: str  # the delimiter, unquoted
    expand: bool
    strip_tabs: bool


def _words(text: str, raw: bool) -> list[str]:
    lexer = Lexer(text, _NO_ENV, "\\", raw_quotes=raw, raw_escapes=raw, keep_unset=True)
    try:
        return lexer.process()[1]
    except ExpandError as exc:
        raise HeredocError(str(exc)) from None


def parse_heredoc(word: str) -> HeredocSpec | None:
    """The heredoc a word names (`<<EOF`, `<<-"EOF"`), or None if it names none."""
    match = _HEREDOC.match(word)
    if match is None or not match.group(3):
        return None
    rest = match.group(3)
    plain = Lexer(rest, _NO_ENV, "\\", keep_unset=True)
    raw = Lexer(rest, _NO_ENV, "\\", raw_quotes=True, keep_unset=True)
    try:
        words, raw_words = plain.process()[1], raw.process()[1]
    except ExpandError as exc:
        raise HeredocError(str(exc)) from None
    if len(words) != 1 or len(raw_words) != 1:
        return None
    quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw_words[0].count("'") + raw_words[0].count('"')
    return HeredocSpec(words[0], quotes == raw_quotes, match.group(2) == "-")


def heredocs_in(line: str) -> list[HeredocSpec]:
    """The heredocs a logical line names, in order."""
    if "<<" not in line:
        return []
    try:
        words = _words(line, raw=True)
    except HeredocError:
        return []  # docker ignores a line its word lexer cannot split
    return [spec for spec in map(parse_heredoc, words) if spec is not None]


def strip_tabs(content: str) -> str:
    """`<<-`: the leading tabs of each line removed."""
    return _LEADING_TABS.sub("", content)
