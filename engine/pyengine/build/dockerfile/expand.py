"""Docker's shell-word substitution for Dockerfile arguments (the dockerfile frontend's lexer).

`$a`, `${a}`, `${a:-w}`, `${a-w}`, `${a:+w}`, `${a+w}`, `${a:?msg}`, `${a?msg}`; the escape
character makes the next character literal; single quotes are literal; double quotes allow
`$` and escape `"`, `$` and the escape character; quotes are removed. Unknown variables expand
to "" (docker's builder). Word splitting (`expand_words`) splits on whitespace outside quotes,
including whitespace a variable's value brings in.

The `raw_quotes`/`raw_escapes`/`keep_unset` switches of `Lexer` are what heredoc detection needs
(heredoc.py): quotes and escapes kept, unset variables left as written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyengine.build.errors import DockerfileError

_SPECIAL_PARAMS = "@*#?-$!0"


class ExpandError(DockerfileError):
    """A word docker's lexer rejects (unterminated quote, bad ${...}, `${a:?msg}`)."""


@dataclass
class _Words:
    """Word splitting: characters from unquoted text and expansions split on whitespace."""

    words: list[str] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf.clear()
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def done(self) -> list[str]:
        if self.buf and "".join(self.buf):
            self.words.append("".join(self.buf))
            self.buf.clear()
        return self.words


class Lexer:
    """One pass over a word (docker's shellWord): `process()` gives the word and its split."""

    def __init__(
        self,
        text: str,
        env: Mapping[str, str],
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        keep_unset: bool = False,
        skip_quotes: bool = False,
    ) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.keep_unset = keep_unset
        self.skip_quotes = skip_quotes  # quotes are plain characters (heredoc bodies)

    # -- scanner ------------------------------------------------------------------------
    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self) -> str:
        ch = self._peek()
        if ch:
            self.pos += 1
        return ch

    # -- the word -----------------------------------------------------------------------
    def process(self) -> tuple[str, list[str]]:
        try:
            return self._process_until("", self.raw_escapes)
        except ExpandError as exc:
            quoted = json.dumps(self.text, ensure_ascii=False)  # Go's %q, as docker prints it
            raise ExpandError(f"failed to process {quoted}: {exc}") from None

    def _process_until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._scan(stop)
        finally:
            self.raw_escapes = saved

    def _scan(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self._peek():
            ch = self._peek()
            if stop and ch == stop:
                self._next()
                return "".join(result), words.done()
            if ch == "$":
                tmp = self._dollar()
                result.append(tmp)
                words.add_string(tmp)
            elif ch == "<":
                tmp = self._possible_heredoc()
                result.append(tmp)
                words.add_raw(tmp)
            elif ch == "'" and not self.skip_quotes:
                tmp = self._single_quote()
                result.append(tmp)
                words.add_raw(tmp)
            elif ch == '"' and not self.skip_quotes:
                tmp = self._double_quote()
                result.append(tmp)
                words.add_raw(tmp)
            else:
                ch = self._next()
                if ch == self.escape:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self._next()
                    if not ch:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop:
            raise ExpandError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.done()

    def _single_quote(self) -> str:
        out: list[str] = []
        quote = self._next()
        if self.raw_quotes:
            out.append(quote)
        while True:
            ch = self._next()
            if not ch:
                raise ExpandError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def _double_quote(self) -> str:
        out: list[str] = []
        quote = self._next()
        if self.raw_quotes:
            out.append(quote)
        while True:
            ch = self._peek()
            if not ch:
                raise ExpandError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self._next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            ch = self._next()
            if ch == self.escape:
                if self.raw_escapes:
                    out.append(ch)
                following = self._peek()
                if not following:
                    continue
                if following in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _possible_heredoc(self) -> str:
        self._next()
        if self._peek() != "<":
            return "<"
        self._next()
        spaces: list[str] = []
        while self._peek() in (" ", "\t"):
            spaces.append(self._next())
        return "<<" + "".join(spaces)

    def _name(self) -> str:
        name: list[str] = []
        while self._peek():
            ch = self._peek()
            if not name and ch.isdigit():
                while self._peek().isdigit():
                    name.append(self._next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return self._next()
            if not (ch.isalnum() or ch == "_"):
                break
            name.append(self._next())
        return "".join(name)

    def _dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            if name not in self.env and self.keep_unset:
                return "$" + name
            return self.env.get(name, "")
        self._next()
        if not self._peek():
            raise ExpandError("syntax error: missing '}'")
        if self._peek() in "{}:":
            raise ExpandError("syntax error: bad substitution")
        name = self._name()
        ch = self._next()
        if ch == "}":
            if name not in self.env and self.keep_unset:
                return "${" + name + "}"
            return self.env.get(name, "")
        return self._modifier(name, ch)

    def _modifier(self, name: str, ch: str) -> str:
        modifier = ch
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self._next()
            modifier += ch
        if ch not in ("+", "-", "?"):
            raise ExpandError(f"unsupported modifier ({modifier}) in substitution")
        try:
            word, _ = self._process_until("}", False)
        except ExpandError:
            if not self._peek():
                raise ExpandError("syntax error: missing '}'") from None
            raise
        is_set = name in self.env
        value = self.env.get(name, "")
        if not is_set and self.keep_unset:
            return "${" + name + modifier + word + "}"
        empty = not is_set or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if not is_set:
            raise ExpandError(f"{name}: {word or 'is not allowed to be unset'}")
        if null_is_unset and value == "":
            raise ExpandError(f"{name}: {word or 'is not allowed to be empty'}")
        return value


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word with its variables substituted and its quotes and escapes removed."""
    return Lexer(word, env, escape).process()[0]


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Text substituted and split into words (whitespace outside quotes), quotes removed."""
    return Lexer(text, env, escape).process()[1]


def expand_heredoc(content: str, env: Mapping[str, str]) -> str:
    """A COPY/ADD heredoc body whose delimiter was not quoted, as docker expands it: variables
    substituted, `\\` escapes the next character, quotes kept as they are."""
    return Lexer(content, env, "\\", skip_quotes=True).process()[0]
