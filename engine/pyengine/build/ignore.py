""".dockerignore: which context paths a build leaves out (moby/patternmatcher's semantics).

The file: one pattern a line; lines starting with `#` are comments; blank lines are skipped;
surrounding whitespace is trimmed; `!` makes an exception. Each pattern is cleaned like Go's
filepath.Clean and loses a leading `/`. Patterns are Go filepath.Match patterns (`*`, `?`,
`[...]`, `\\` escapes) where `**` matches any number of directories. The last pattern that
matches a path decides; a pattern that matches a parent directory excludes what is below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyengine.errors import InvalidArgument

_ESCAPED = set(".+()|{}$")  # what patternmatcher escapes; `^` too, for Python's re


class IgnoreFileError(InvalidArgument):
    """A .dockerignore docker rejects (a lone `!`, an unclosed `[`)."""


def clean(path: str) -> str:
    """Go's filepath.Clean for `/` paths ("" -> ".", "a/../b" -> "b", "//a/" -> "/a")."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    out = "/".join(parts)
    if rooted:
        out = "/" + out
    return out or "."


def _regex_body(pattern: str) -> tuple[str, str]:
    """(the regex for a cleaned pattern, its match kind: exact|prefix|suffix|regexp)."""
    out: list[str] = []
    kind = "exact"
    in_class = False  # inside [...]: `^` negates, as in Go's regexp
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        first = i == 0
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    kind = "prefix" if kind == "exact" else "regexp"
                    out.append(".*")
                else:
                    out.append("(.*/)?")
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                out.append("[^/]*")
                kind = "regexp"
        elif ch == "?":
            out.append("[^/]")
            kind = "regexp"
        elif ch in _ESCAPED or (ch == "^" and not in_class):
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append(re.escape(pattern[i]))
                i += 1
                kind = "regexp"
            else:
                out.append("\\\\")
        elif ch in "[]":
            out.append(ch)
            in_class = ch == "["
            kind = "regexp"
        else:
            out.append(ch)
    return "".join(out), kind


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned, without the `!`
    exclusion: bool  # a `!` exception
    kind: str  # exact | prefix (`a/**`) | suffix (`**/a`) | regexp, as patternmatcher decides
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str, exclusion: bool) -> Pattern:
        body, kind = _regex_body(text)
        try:
            regex = re.compile("^" + body + "$", re.DOTALL)
        except re.error:
            raise IgnoreFileError(f"syntax error in pattern: {text}") from None
        return cls(text, exclusion, kind, regex)

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regex.match(path) is not None


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore, as docker's ignorefile.ReadAll gives them."""
    out: list[str] = []
    for raw in text.removeprefix("\ufeff").split("\n"):
        if raw.startswith("#"):
            continue
        pattern = raw.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


class IgnoreMatcher:
    """Decides whether a context path (relative, `/`-separated) is excluded."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns

    @classmethod
    def parse(cls, text: str) -> IgnoreMatcher:
        compiled: list[Pattern] = []
        for line in read_patterns(text):
            pattern = clean(line.strip())
            exclusion = pattern.startswith("!")
            if exclusion:
                if pattern == "!":
                    raise IgnoreFileError('illegal exclusion pattern: "!"')
                pattern = pattern[1:]
            compiled.append(Pattern.compile(pattern, exclusion))
        return cls(compiled)

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether the path is left out (patternmatcher's MatchesOrParentMatches).

        `is_dir` does not change the answer (patterns are cleaned, so `dir/` is `dir`); it is
        accepted so callers can say what they walk."""
        path = clean(relpath)
        if path == ".":
            return False
        parent = path.rsplit("/", 1)[0] if "/" in path else "."
        parents = parent.split("/")
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.matches(path)
            if not match and parent != ".":
                match = any(
                    pattern.matches("/".join(parents[: i + 1])) for i in range(len(parents))
                )
            if match:
                matched = not pattern.exclusion
        return matched

    def may_include_under(self, reldir: str) -> bool:
        """False when nothing under the directory can be included: the walk may skip it.

        A directory that is not excluded is walked; an excluded one only if some `!`
        exception could match a path below it (its leading components match the directory's,
        or it has `**` before it diverges)."""
        if not self.excluded(reldir, is_dir=True):
            return True
        parts = clean(reldir).split("/")
        return any(_could_match_below(p.text, parts) for p in self.patterns if p.exclusion)


def _could_match_below(pattern: str, parts: list[str]) -> bool:
    components = pattern.split("/")
    for i, part in enumerate(parts):
        if i >= len(components):
            return True
        component = components[i]
        if "**" in component:
            return True
        body, _ = _regex_body(component)
        try:
            if re.match("^" + body + "$", part, re.DOTALL) is None:
                return False
        except re.error:
            return False
    return True
