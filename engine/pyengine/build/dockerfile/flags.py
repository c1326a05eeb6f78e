"""An instruction's keyword, its `--name=value` flags and the rest of its line (docker's rules).

Flags are the leading words that start with `--`; quotes in them are removed and the escape
character escapes the next character. `--` alone ends the flags. Each instruction allows its
own flags (FLAGS below); anything else is docker's "Unknown flag: NAME" (docker 20.10's texts,
checked against its daemon; BuildKit's newer frontend words them in lower case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pyengine.build.dockerfile.instructions import Flag

FlagKind = Literal["bool", "string", "strings"]  # strings: may be repeated

FLAGS: Mapping[str, Mapping[str, FlagKind]] = {
    "FROM": {"platform": "string"},
    "RUN": {"mount": "strings", "network": "string", "security": "string"},
    "COPY": {
        "from": "string",
        "chown": "string",
        "chmod": "string",
        "link": "bool",
        "parents": "bool",
        "exclude": "strings",
    },
    "ADD": {
        "chown": "string",
        "chmod": "string",
        "link": "bool",
        "checksum": "string",
        "keep-git-dir": "bool",
        "unpack": "bool",
        "exclude": "strings",
    },
    "HEALTHCHECK": {
        "interval": "string",
        "timeout": "string",
        "start-period": "string",
        "start-interval": "string",
        "retries": "string",
    },
}

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")


class FlagError(ValueError):
    """A flag docker rejects."""


def split_command(line: str, escape: str) -> tuple[str, list[str], str]:
    """(keyword as written, the flag words, the arguments text, stripped)."""
    parts = _WHITESPACE.split(line.strip(), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    words, rest = _extract_flags(parts[1], escape)
    return parts[0], words, rest.strip()


def _extract_flags(line: str, escape: str) -> tuple[list[str], str]:
    words: list[str] = []
    pos = 0
    n = len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            return words, ""
        if not line.startswith("--", pos):
            return words, line[pos:]
        word, blank_ok, pos = _flag_word(line, pos, escape)
        if word == "--":
            return words, line[pos:]
        if word or blank_ok:
            words.append(word)


def _flag_word(line: str, pos: int, escape: str) -> tuple[str, bool, int]:
    """One flag word from pos: (the word unquoted, whether it had quotes, the end)."""
    out: list[str] = []
    quote = ""
    blank_ok = False
    n = len(line)
    while pos < n:
        ch = line[pos]
        if not quote and ch.isspace():
            break
        pos += 1
        if not quote and ch in ("'", '"'):
            quote, blank_ok = ch, True
            continue
        if quote and ch == quote:
            quote = ""
            continue
        if ch == escape:
            if pos >= n:
                quote = ""
                continue
            ch = line[pos]
            pos += 1
        out.append(ch)
    return "".join(out), blank_ok, pos


def parse_flags(keyword: str, words: list[str]) -> tuple[Flag, ...]:
    """The flag words checked against what `keyword` allows."""
    allowed = FLAGS.get(keyword, {})
    flags: list[Flag] = []
    seen: set[str] = set()
    for word in words:
        if not word.startswith("--"):
            raise FlagError(f"Arg should start with -- : {word}")
        name, eq, value = word[2:].partition("=")
        kind = allowed.get(name)
        if kind is None:
            raise FlagError(f"Unknown flag: {name}")
        if name in seen and kind != "strings":
            raise FlagError(f"Duplicate flag specified: {name}")
        seen.add(name)
        if kind == "bool":
            if eq and not value:
                raise FlagError(f"Missing a value on flag: {name}")
            if value.lower() not in ("", "true", "false"):
                raise FlagError(f"Expecting boolean value for flag {name}, not: {value}")
        elif not eq:
            raise FlagError(f"Missing a value on flag: {name}")
        flags.append(Flag(name, value if eq else None))
    return tuple(flags)
