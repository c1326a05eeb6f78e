"""docker's shell-word substitution (expand, expand_words): the dockerfile frontend's lexer rules.

Expected values were checked against moby/buildkit's frontend/dockerfile/shell tests (the
envVarTest/wordsTest tables, PWD=/home SHELL=bash NULL=""), read for facts.
"""

from __future__ import annotations

import pytest
from pyengine.build.dockerfile.expand import ExpandError, expand, expand_words
from pyengine.build.errors import DockerfileError

ENV = {"PWD": "/home", "SHELL": "bash", "NULL": "", "KOREAN": "한국어"}

ERROR = object()


@pytest.mark.parametrize(
    ("word", "want"),
    [
        # quotes and escapes
        ("hello", "hello"),
        ("he'll'o", "hello"),
        ("he\\'llo", "he'llo"),
        ("abc\\tdef", "abctdef"),
        ('"abc\\tdef"', "abc\\tdef"),
        ('"abc\\\\tdef"', "abc\\tdef"),
        ("'abc\\tdef'", "abc\\tdef"),
        ("hello\\", "hello"),
        ("hello\\\\", "hello\\"),
        ('"hel\'lo"', "hel'lo"),
        ("'hello\\'", "hello\\"),
        ("'hello\\\\there'", "hello\\\\there"),
        ('"\'\'"', "''"),
        ("'\"hello\"'", '"hello"'),
        ("안'녕'하세요", "안녕하세요"),
        # $name
        ("$.", "$."),
        ("he$1x", "hex"),
        ("he$.x", "he$.x"),
        ("he$pwd.", "he."),
        ("he$PWD", "he/home"),
        ("he$PWD-x", "he/home-x"),
        ("he\\$PWD", "he$PWD"),
        ("he\\\\$PWD", "he\\/home"),
        ('"he\\$PWD"', "he$PWD"),
        ('"he\\\\$PWD"', "he\\/home"),
        ("'$PWD'", "$PWD"),
        ("'\\$PWD'", "\\$PWD"),
        ('"$PWD"', "/home"),
        ('"he\'$PWD\'"', "he'/home'"),
        ("$KOREAN", "한국어"),
        ("$UNKNOWN", ""),
        # ${name} and modifiers
        ("\\${}", "${}"),
        ("he\\${}xx", "he${}xx"),
        ("he${hi}xx", "hexx"),
        ("he${PWD}", "he/home"),
        ("he${XXX:-000}xx", "he000xx"),
        ("he${PWD:-000}xx", "he/homexx"),
        ("he${NULL:-000}xx", "he000xx"),
        ("he${NULL-000}xx", "hexx"),
        ("he${XXX-000}xx", "he000xx"),
        ("he${XXX:-$PWD}xx", "he/homexx"),
        ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
        ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
        ("he${XXX:+${PWD}}xx", "hexx"),
        ("he${PWD:+${XXX}}xx", "hexx"),
        ("he${PWD:+${SHELL}}xx", "hebashxx"),
        ("he${XXX:+000}xx", "hexx"),
        ("he${PWD:+000}xx", "he000xx"),
        ("he${NULL:+000}xx", "hexx"),
        ("he${NULL+000}xx", "he000xx"),
        ("he${PWD?}", "he/home"),
        ("he${PWD:?}", "he/home"),
        ("he${NULL?}", "he"),
        ("'he${XX}'", "he${XX}"),
        ('"he${PWD}"', "he/home"),
        ("he${PWD:+${PWD}:}xx", "he/home:xx"),
        ("he${XXX:-\\$PWD:}xx", "he$PWD:xx"),
        ("he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"),
        ('${XXX:-"a b"}', "a b"),
        # errors
        ("he'llo", ERROR),
        ("he\\\\'llo", ERROR),
        ('"hello', ERROR),
        ('"hello\\"', ERROR),
        ("'hello", ERROR),
        ("${}", ERROR),
        ("he${}xx", ERROR),
        ("he${.}", ERROR),
        ("he${XXX:YYY}", ERROR),
        ("he${XXX?}", ERROR),
        ("he${XXX:?}", ERROR),
        ("he${NULL:?}", ERROR),
        ("he${PWD", ERROR),
        ("he${PWD:=000}xx", ERROR),
    ],
)
def test_expand(word: str, want: object) -> None:
    if want is ERROR:
        with pytest.raises(ExpandError):
            expand(word, ENV)
    else:
        assert expand(word, ENV) == want


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${A:?must be set}", "A: must be set"),
        ("${A?}", "A: is not allowed to be unset"),
        ("${NULL:?}", "NULL: is not allowed to be empty"),
        ("${", "syntax error: missing '}'"),
        ("${}", "syntax error: bad substitution"),
        ("${A:=x}", "unsupported modifier (:=) in substitution"),
        ("'a", "unexpected end of statement while looking for matching single-quote"),
        ('"a', "unexpected end of statement while looking for matching double-quote"),
    ],
)
def test_error_messages(word: str, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        expand(word, ENV)
    assert str(info.value).startswith('failed to process "')
    assert str(info.value).endswith(": " + message)


def test_backtick_escape() -> None:
    assert expand("C:\\path\\$PWD", ENV, "`") == "C:\\path\\/home"
    assert expand("a`$PWD", ENV, "`") == "a$PWD"
    assert expand('"a`"b"', ENV, "`") == 'a"b'
    assert expand("a``b", ENV, "`") == "a`b"


SPLIT_ENV = {"space": "abc  def", "leading": "  ab c", "trailing": "ab c   ", "hi": "hi"}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("hello", ["hello"]),
        ("hello${hi}bye", ["hellohibye"]),
        ("hello${space}bye", ["helloabc", "defbye"]),
        ('hello"${space}"bye', ["helloabc  defbye"]),
        ('hello "${space}"bye', ["hello", "abc  defbye"]),
        ("hello${leading}def", ["hello", "ab", "cdef"]),
        ('hello"${leading}" def', ["hello  ab c", "def"]),
        ("hello${trailing}d", ["helloab", "c", "d"]),
        ('hel"lo${trailing}"', ["helloab c   "]),
        ('hello" there  "', ["hello there  "]),
        ("hello there     ", ["hello", "there"]),
        ("hello\\ there", ["hello there"]),
        ('hello\\" there', ['hello"', "there"]),
        ('hello"\\\\there"', ["hello\\there"]),
        ("hello'\\\\there'", ["hello\\\\there"]),
        ("hello'$there'", ["hello$there"]),
        ("", []),
        ('""', []),
        ("  a   b  ", ["a", "b"]),
        ("$unset a", ["a"]),
    ],
)
def test_expand_words(text: str, want: list[str]) -> None:
    assert expand_words(text, SPLIT_ENV) == want


def test_expand_words_error() -> None:
    with pytest.raises(ExpandError):
        expand_words('hello" there', SPLIT_ENV)


def test_env_is_any_mapping_and_not_changed() -> None:
    env = {"A": "1"}
    assert expand("${A}${B:-2}", env) == "12"
    assert env == {"A": "1"}
