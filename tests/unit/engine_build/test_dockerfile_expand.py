"""docker's shell-word substitution (expand, expand_words): the dockerfile frontend's lexer rules.

Expected values were checked against moby/buildkit's frontend/dockerfile/shell tests (the
envVarTest/wordsTest tables, PWD=/home SHELL=bash NULL=""), read for facts.
"""

from __future__ import annotations

import pytest
from pyengine.build.dockerfile.expand import ExpandError, expand, expand_words
from pyengine.build.dockerfile.instructions import Env, Label, User, Volume, Workdir
from pyengine.build.dockerfile.parser import parse
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


CHECKED = """\
FROM scratch
ARG V=1.0
ENV A="x y" B=a\\ b C='$A' D="$A-${V}" E=${U:-def} F="q\\"uote" G=\\$A
ENV LEG  some   words  "kept" $A
LABEL "com.x"="v $V" plain=1 multi="a \\
  b"
WORKDIR /srv/${V}/"sub dir"
USER ${V}:grp
VOLUME ["/v1", "/v 2"]
"""


def test_parsed_words_expand_as_docker_20_10_built_them() -> None:
    """The parser's raw words, expanded, give what dockerd 20.10's classic builder put in the
    image config for this Dockerfile (DOCKER_BUILDKIT=0 docker build; docker inspect):
    Env A=x y, B=a b, C=$A, D=-1.0 (an ENV line sees the variables from before it), E=def,
    F=q"uote, G=$A, LEG=some   words  kept x y; Labels com.x=v 1.0, plain=1, multi=a   b;
    WorkingDir /srv/1.0/sub dir; User 1.0:grp; Volumes /v1 and /v 2."""
    _, env1, env2, label, workdir, user, volume = parse(CHECKED).stages[0].instructions
    assert isinstance(env1, Env) and isinstance(env2, Env) and isinstance(label, Label)
    before = {"V": "1.0"}
    assert [(expand(p.key, before), expand(p.value, before)) for p in env1.pairs] == [
        ("A", "x y"), ("B", "a b"), ("C", "$A"), ("D", "-1.0"), ("E", "def"),
        ("F", 'q"uote'), ("G", "$A"),
    ]
    after = {"V": "1.0", "A": "x y"}
    assert [(expand(p.key, after), expand(p.value, after)) for p in env2.pairs] == [
        ("LEG", "some   words  kept x y"),
    ]
    assert [(expand(p.key, after), expand(p.value, after)) for p in label.pairs] == [
        ("com.x", "v 1.0"), ("plain", "1"), ("multi", "a   b"),
    ]
    assert isinstance(workdir, Workdir) and expand(workdir.path, after) == "/srv/1.0/sub dir"
    assert isinstance(user, User) and expand(user.user, after) == "1.0:grp"
    assert isinstance(volume, Volume) and volume.paths == ("/v1", "/v 2")
