"""COPY's path rules without root: Go's filepath.Match for source wildcards, lexical
cleaning of source words, and resolution inside a scope (docker's FollowSymlinkInScope)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from pyengine.build import scoped
from pyengine.build.wildcard import has_wildcards, match


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("*.py", "a.py", True),
    ("*.py", "d/a.py", False),  # * stops at /
    ("d/*.py", "d/a.py", True),
    ("?", "/", False),
    ("a?c", "abc", True),
    ("[a-c]x", "bx", True),
    ("[^a-c]x", "bx", False),
    ("[^a-c]x", "dx", True),
    ("[^a-c]x", "/x", False),
    ("a\\*", "a*", True),
    ("a\\*", "ab", False),
    ("[]]", "]", False),  # bad pattern: matches nothing, as docker ignores ErrBadPattern
    ("[", "[", False),
    ("a\\", "a\\", False),
    ("*", ".hidden", True),  # no dot-file rule in filepath.Match
])
def test_match(pattern: str, name: str, expected: bool) -> None:
    assert match(pattern, name) is expected


def test_has_wildcards() -> None:
    assert has_wildcards("*.txt") and has_wildcards("a/[bc]") and has_wildcards("?")
    assert not has_wildcards("plain/name") and not has_wildcards("a\\*b")


@pytest.mark.parametrize(("word", "clean"), [
    ("/a/b", "a/b"), ("./a", "a"), ("../x", "x"), ("a/../../b", "b"), ("a//./b/", "a/b"),
    (".", ""), ("/", ""), ("../..", ""),
])
def test_clean(word: str, clean: str) -> None:
    assert scoped.clean(word) == clean


@pytest.fixture
def scope(tmp_path: Path) -> Path:
    root = tmp_path / "scope"
    (root / "d/sub").mkdir(parents=True)
    (root / "d/f").write_text("f")
    os.symlink("/d", root / "abs")
    os.symlink("../../../..", root / "d/up")
    os.symlink("sub", root / "d/rel")
    os.symlink("/etc/passwd", root / "pw")
    os.symlink("loop", root / "loop")
    return root


def _resolve(root: Path, path: str) -> scoped.Resolved:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return scoped.resolve(fd, path)
    finally:
        os.close(fd)


@pytest.mark.parametrize(("path", "parts", "missing"), [
    ("/abs/f", ("d", "f"), ()),              # an absolute target restarts at the scope
    ("d/up/d/f", ("d", "f"), ()),            # .. stops at the scope's root
    ("d/rel/x/y", ("d", "sub"), ("x", "y")),
    ("/pw", (), ("etc", "passwd")),          # /etc/passwd of the scope, not the host's
    ("../../d", ("d",), ()),
    ("new/../d/f", ("d", "f"), ()),
    ("d/new/../f", ("d", "f"), ()),
])
def test_resolve_stays_in_scope(scope: Path, path: str, parts: tuple[str, ...],
                                missing: tuple[str, ...]) -> None:
    found = _resolve(scope, path)
    assert (found.parts, found.missing) == (parts, missing)
    assert found.exists is (not missing)


def test_resolve_errors(scope: Path) -> None:
    with pytest.raises(OSError) as err:
        _resolve(scope, "loop")
    assert err.value.errno == errno.ELOOP
    with pytest.raises(OSError) as err:
        _resolve(scope, "d/f/x")
    assert err.value.errno == errno.ENOTDIR
