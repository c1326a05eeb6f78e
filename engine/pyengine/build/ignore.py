""".dockerignore: which context paths a build leaves out (moby/patternmatcher's semantics).

The file: one pattern a line; lines starting with `#` are comments; blank lines are skipped;
surrounding whitespace is trimmed; `!` makes an exception. Each pattern is cleaned like Go's
filepath.Clean and loses a leading `/`. Patterns are Go filepath.Match patterns (`*`, `?`,
`[...]`, `\\` escapes) where `**` matches any number of directories. The last pattern that
matches a path decides; a pattern that matches a parent directory excludes what is below it.

pyctl imports this module to walk a context: it stays lean (no re, no dataclasses, no typing at
run time; patterns are matched by a small backtracking matcher over their tokens).
"""

from __future__ import annotations

from pyengine.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    Token = tuple[str, str]  # (kind, text): lit, one, star, dirs, any, class, nclass

_STAR, _ONE, _DIRS, _ANY = ("star", ""), ("one", ""), ("dirs", ""), ("any", "")


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


def _class(pattern: str, i: int) -> tuple[Token, int]:
    """A `[...]` from just after its `[`: its members as text (ranges as a-b) and the end."""
    negate = pattern.startswith("^", i)
    if negate:
        i += 1
    members: list[str] = []
    while i < len(pattern) and (pattern[i] != "]" or not members):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
        members.append(ch)
        i += 1
    if i >= len(pattern):
        raise IgnoreFileError(f"syntax error in pattern: {pattern}")
    return ("nclass" if negate else "class", "".join(members)), i + 1


def tokenize(pattern: str) -> tuple[list[Token], str]:
    """The tokens of a cleaned pattern and its match kind (exact|prefix|suffix|match), as
    patternmatcher compiles it: `**/` is "any directories", a trailing `**` anything."""
    tokens: list[Token] = []
    kind = "exact"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        first = i == 0
        i += 1
        if ch == "*" and i < n and pattern[i] == "*":
            i += 1
            if i < n and pattern[i] == "/":
                i += 1
            if i >= n:
                kind = "prefix" if kind == "exact" else "match"
                tokens.append(_ANY)
            else:
                kind = "match"
                tokens.append(_DIRS)
            if first:
                kind = "suffix"
        elif ch == "*":
            tokens.append(_STAR)
            kind = "match"
        elif ch == "?":
            tokens.append(_ONE)
            kind = "match"
        elif ch == "\\":
            if i < n:
                tokens.append(("lit", pattern[i]))
                i += 1
                kind = "match"
            else:
                tokens.append(("lit", "\\"))
        elif ch == "[":
            token, i = _class(pattern, i)
            tokens.append(token)
            kind = "match"
        else:
            tokens.append(("lit", ch))
    return tokens, kind


def _in_class(members: str, ch: str) -> bool:
    i = 0
    while i < len(members):
        if i + 2 < len(members) and members[i + 1] == "-":
            if members[i] <= ch <= members[i + 2]:
                return True
            i += 3
        else:
            if members[i] == ch:
                return True
            i += 1
    return False


def match_tokens(tokens: list[Token], path: str) -> bool:
    """Whether the tokens match the whole path (a backtracking matcher with a memo)."""
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        ti, si = stack.pop()
        if (ti, si) in seen:
            continue
        seen.add((ti, si))
        if ti == len(tokens):
            if si == len(path):
                return True
            continue
        kind, text = tokens[ti]
        if kind == "lit":
            if path.startswith(text, si):
                stack.append((ti + 1, si + len(text)))
        elif kind in ("one", "class", "nclass"):
            if si < len(path) and _one_matches(kind, text, path[si]):
                stack.append((ti + 1, si + 1))
        elif kind == "star":
            end = path.find("/", si)
            end = len(path) if end < 0 else end
            stack.extend((ti + 1, j) for j in range(si, end + 1))
        elif kind == "any":
            stack.extend((ti + 1, j) for j in range(si, len(path) + 1))
        else:  # dirs: nothing, or anything up to and including a "/"
            stack.append((ti + 1, si))
            stack.extend((ti + 1, j + 1) for j in range(si, len(path)) if path[j] == "/")
    return False


def _one_matches(kind: str, members: str, ch: str) -> bool:
    if kind == "one":
        return ch != "/"
    return _in_class(members, ch) != (kind == "nclass")


class Pattern:
    """One line of the file, compiled."""

    __slots__ = ("exclusion", "kind", "text", "tokens")

    def __init__(self, text: str, exclusion: bool) -> None:
        self.text = text  # cleaned, without the `!`
        self.exclusion = exclusion  # a `!` exception
        self.tokens, self.kind = tokenize(text)

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return match_tokens(self.tokens, path)


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

    __slots__ = ("patterns",)

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
            compiled.append(Pattern(pattern, exclusion))
        return cls(compiled)

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
        if not match_tokens(tokenize(component)[0], part):
            return False
    return True
