"""Go's filepath.Match, which docker uses to expand COPY/ADD source wildcards.

`*` matches any run of characters but `/`, `?` one character but `/`, `[...]` a class
(`[^...]` negated, ranges `a-z`), `\\` escapes the next character. A malformed pattern matches
nothing (docker ignores filepath.ErrBadPattern).
"""

from __future__ import annotations

import re
from functools import lru_cache


def has_wildcards(word: str) -> bool:
    """Whether `word` has an unescaped `*`, `?` or `[` (docker's containsWildcards)."""
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?[":
            return True
        i += 1
    return False


def match(pattern: str, name: str) -> bool:
    """filepath.Match(pattern, name) for one path (components separated by `/`)."""
    compiled = _compile(pattern)
    return compiled is not None and compiled.fullmatch(name) is not None


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 >= n:
                return None
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = _class(pattern, i + 1, out)
            if end < 0:
                return None
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _class(pattern: str, i: int, out: list[str]) -> int:
    """Translate the class starting after `[` at i; returns the index of its `]`, -1 when
    malformed."""
    n = len(pattern)
    negate = i < n and pattern[i] == "^"
    if negate:
        i += 1
    ranges: list[str] = []
    while i < n and pattern[i] != "]":
        lo, i = _class_char(pattern, i)
        if lo is None:
            return -1
        if i < n and pattern[i] == "-" and i + 1 < n and pattern[i + 1] != "]":
            hi, i = _class_char(pattern, i + 1)
            if hi is None or hi < lo:
                return -1
            ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            ranges.append(re.escape(lo))
    if i >= n or not ranges:
        return -1
    body = "".join(ranges)
    out.append(f"[^/{body}]" if negate else f"(?![/])[{body}]")
    return i


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None, i
    return pattern[i], i + 1
