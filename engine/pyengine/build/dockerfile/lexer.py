"""Physical lines to logical lines, as docker's Dockerfile parser reads them.

A logical line is an instruction: its first line (leading whitespace removed) and, while a line
ends in the escape character (optionally followed by spaces/tabs), the following lines joined
without the line breaks. Comment lines (`#` after optional whitespace) are dropped, also inside a
continuation; blank lines inside a continuation are dropped (docker warns: "Empty continuation
line"). Parser directives are consumed at the top (directives.py). Heredoc bodies are read by
the parser through `read_heredoc` right after the logical line that names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyengine.build.dockerfile.directives import DirectiveError, Directives


class LexError(ValueError):
    """A line-level error, with the 1-based line it is on."""

    def __init__(self, message: str, line: int, keyword: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.keyword = keyword  # the instruction it is in, if known


@dataclass(frozen=True)
class LogicalLine:
    text: str  # continuations joined, the escape characters that joined them removed
    line: int  # 1-based first physical line
    end_line: int  # 1-based last physical line (before any heredoc body)


def _is_comment(raw: str) -> bool:
    return raw.lstrip().startswith("#")


def _chomp(raw: str) -> str:
    return raw.rstrip("\r\n")


@dataclass
class LineReader:
    """A cursor over the physical lines of a Dockerfile (line endings kept)."""

    text: str
    directives: Directives = field(default_factory=Directives)
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(init=False)
    pos: int = field(init=False, default=0)  # lines consumed so far (= last line number)
    _continuation: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.text = self.text.removeprefix("\ufeff")
        self.lines = [line + "\n" for line in self.text.split("\n")]
        self.lines[-1] = self.lines[-1][:-1]  # the text after the last "\n" has none
        if not self.lines[-1]:
            self.lines.pop()
        self._continuation = self._continuation_for(self.directives.escape)

    @staticmethod
    def _continuation_for(escape: str) -> re.Pattern[str]:
        e = re.escape(escape)
        return re.compile(rf"([^{e}]){e}[ \t]*$|^{e}[ \t]*$")

    def _take(self) -> str | None:
        if self.pos >= len(self.lines):
            return None
        raw = self.lines[self.pos]
        self.pos += 1
        return raw

    def _process(self, raw: str, strip_left: bool) -> str:
        """docker's processLine: directives are looked for, comments become empty."""
        token = _chomp(raw)
        if strip_left:
            token = token.lstrip()
        escape = self.directives.escape
        try:
            self.directives.line(token)
        except DirectiveError as exc:
            raise LexError(str(exc), self.pos) from None
        if self.directives.escape != escape:
            self._continuation = self._continuation_for(self.directives.escape)
        return "" if _is_comment(token) else token

    def _trim_continuation(self, token: str) -> tuple[str, bool]:
        """(the line without its continuation character, whether the logical line ends)."""
        if self._continuation.search(token):
            return self._continuation.sub(r"\1", token, count=1), False
        return token, True

    def next_line(self) -> LogicalLine | None:
        """The next instruction's logical line, or None at the end of the file."""
        while True:
            raw = self._take()
            if raw is None:
                return None
            token = self._process(raw, strip_left=True)
            start = self.pos
            token, ends = self._trim_continuation(token)
            if ends and not token:
                continue
            parts = [token]
            empty_continuation = False
            while not ends:
                raw = self._take()
                if raw is None:
                    break
                token = self._process(raw, strip_left=False)
                if _is_comment(raw):
                    continue
                if not token.strip():
                    empty_continuation = True
                    continue
                token, ends = self._trim_continuation(token)
                parts.append(token)
            text = "".join(parts)
            if empty_continuation:
                self.warnings.append(f"Empty continuation line found in: {text}")
            return LogicalLine(text, start, self.pos)

    def read_heredoc(self, name: str, strip_tabs: bool, start: int) -> str:
        """The body of a heredoc up to its terminator line (consumed, not returned)."""
        body: list[str] = []
        while True:
            raw = self._take()
            if raw is None:
                raise LexError("unterminated heredoc", start)
            candidate = _chomp(raw)
            if strip_tabs:
                candidate = candidate.lstrip("\t")
            if candidate == name:
                return "".join(body)
            body.append(raw)
