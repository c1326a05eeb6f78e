"""How each instruction's arguments text is split: JSON arrays, words, key=value pairs.

docker's line parsers: words keep their quotes (they are removed when the words are expanded);
a JSON array of strings is the exec form, anything else that is not valid JSON the shell form.
"""

from __future__ import annotations

import json
import re

from pyengine.build.dockerfile.instructions import ArgDecl, KeyValue

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")


class ArgumentError(ValueError):
    """Arguments docker rejects."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"not JSON: {name}")  # Go's JSON has no NaN/Infinity


def parse_json(rest: str) -> list[str] | None:
    """The strings of a JSON array, or None if `rest` is not one (the shell form)."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise ArgumentError(
            "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return value


def split_whitespace(rest: str) -> list[str]:
    """Whitespace-separated words, quotes not special (FROM, EXPOSE, shell-form COPY)."""
    return [word for word in _WHITESPACE.split(rest) if word] if rest else []


def parse_words(rest: str, escape: str) -> list[str]:
    """docker's parseWords: words separated by unquoted whitespace, quotes and escapes kept."""
    words: list[str] = []
    buf: list[str] = []
    in_word = blank_ok = False
    quote = ""
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        pos += 1
        if not in_word:
            if ch.isspace():
                continue
            in_word = True
        if not quote:
            if ch.isspace():
                if blank_ok or buf:
                    words.append("".join(buf))
                buf, in_word, blank_ok = [], False, False
                continue
            if ch in ("'", '"'):
                quote, blank_ok = ch, True
            elif ch == escape:
                if pos >= n:
                    continue
                buf.append(ch)
                ch = rest[pos]
                pos += 1
            buf.append(ch)
            continue
        if ch == quote:
            quote = ""
        elif ch == escape and quote != "'":
            if pos >= n:
                quote = ""
                continue
            buf.append(ch)
            ch = rest[pos]
            pos += 1
        buf.append(ch)
    if in_word and (blank_ok or buf):
        words.append("".join(buf))
    return words


def parse_key_values(keyword: str, rest: str, escape: str) -> tuple[KeyValue, ...]:
    """ENV/LABEL: `k=v k2="v 2"` pairs (values raw), or the legacy `k v v` as one pair."""
    words = parse_words(rest, escape)
    if not words:
        raise ArgumentError(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ArgumentError(f"{keyword} must have two arguments")
        return (KeyValue(parts[0], parts[1]),)
    pairs: list[KeyValue] = []
    for word in words:
        if "=" not in word:
            raise ArgumentError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        key, _, value = word.partition("=")
        if not key:
            raise ArgumentError(f"{keyword} names can not be blank")
        pairs.append(KeyValue(key, value))
    return tuple(pairs)


def parse_arg_decls(rest: str, escape: str) -> tuple[ArgDecl, ...]:
    """ARG: one or more `name` or `name=default` (default raw)."""
    words = parse_words(rest, escape)
    if not words:
        raise ArgumentError("ARG requires at least one argument")
    decls: list[ArgDecl] = []
    for word in words:
        if "=" in word:
            name, _, default = word.partition("=")
            if not name:
                raise ArgumentError("ARG names can not be blank")
            decls.append(ArgDecl(name, default))
        else:
            decls.append(ArgDecl(word, None))
    return tuple(decls)


def go_quote(text: str) -> str:
    """Go's %q for the common case (json.dumps escapes the same way for ASCII)."""
    return json.dumps(text, ensure_ascii=False)
