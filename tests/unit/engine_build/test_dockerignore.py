""".dockerignore matching (moby/patternmatcher + ignorefile semantics, read for facts)."""

from __future__ import annotations

import pytest
from pyengine.build.ignore import IgnoreFileError, IgnoreMatcher, clean, read_patterns
from pyengine.errors import InvalidArgument


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("*", "fileutils.go", True),
        ("*.go", "fileutils.go", True),
        ("*.go", "dir/fileutils.go", False),  # `*` does not cross `/`
        ("**", "file", True),
        ("**", "dir/file", True),
        ("**/", "dir/file", True),
        ("**/**", "dir/file", True),
        ("dir/**", "dir/file", True),
        ("dir/**", "dir/dir2/file", True),
        ("dir/**", "dir", False),
        ("**/dir", "dir", True),
        ("**/dir", "dir/file", True),  # a parent directory matches
        ("**/dir2/*", "dir/dir2/file", True),
        ("**/dir2/**", "dir/dir2/dir3/file", True),
        ("**file", "file", True),
        ("**file", "dir/dir/file", True),
        ("**file", "dir/xfile", True),  # patternmatcher's suffix match
        ("**/file", "dir/dir/file", True),
        ("**/file*", "dir/dir/file.txt", True),
        ("**/file*.txt", "dir/dir/file.txt", True),
        ("**/**/*.txt", "dir/dir/file.txt", True),
        ("**/**/*.txt2", "dir/dir/file.txt", False),
        ("**/*.txt", "file.txt", True),
        ("a**/*.txt", "a/dir/dir/file.txt", True),
        ("a/*.txt", "a/dir/file.txt", False),
        ("a/*.txt", "a/file.txt", True),
        ("a[b-d]e", "ae", False),
        ("a[b-d]e", "ace", True),
        ("a[b-d]e", "aae", False),
        ("a[^b-d]e", "aze", True),
        ("a[^b-d]e", "ace", False),
        (".*", ".foo", True),
        (".*", "foo", False),
        ("abc.def", "abcdef", False),
        ("abc.def", "abc.def", True),
        ("abc?def", "abcZdef", True),
        ("abc?def", "abcdef", False),
        ("abc?def", "abc/def", False),
        ("a\\\\", "a\\", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("**/foo/bar", "foo/bar", True),
        ("**/foo/bar", "dir/dir2/foo/bar", True),
        ("**/.foo", ".foo", True),
        ("**/.foo", "bar.foo", False),
        ("a(b)c/def", "a(b)c/def", True),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
        ("a^b", "a^b", True),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
        # parents: a pattern that matches a directory excludes what is below
        ("node_modules", "node_modules/a/b.js", True),
        ("docs", "docs/README.md", True),
        ("docs/", "docs/README.md", True),
        ("docs/*", "docs/a/b", True),
        ("*/temp*", "somedir/temporary.txt", True),
        ("*/temp*", "somedir/sub/temporary.txt", False),
        ("*/*/temp*", "somedir/sub/temporary.txt", True),
        ("temp?", "tempa", True),
        # cleaning: leading / and ./, .., duplicate slashes
        ("/build", "build/x", True),
        ("./build", "build/x", True),
        ("a/../b", "b", True),
        ("a//b/", "a/b", True),
        ("build", "./build/x", True),
        ("build", "src/build", False),
    ],
)
def test_one_pattern(pattern: str, path: str, excluded: bool) -> None:
    assert IgnoreMatcher.parse(pattern).excluded(path) is excluded


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["!fileutils.go", "*.go"], "fileutils.go", True),
        (["*.go", "!fileutils.go"], "fileutils.go", False),
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs/", "!docs/README.md"], "docs/README.md", False),
        (["docs/*", "!docs/README.md"], "docs/README.md", False),
        (["docs", "!docs/README.md"], "docs/other.md", True),
        (["**", "!keep", "!src/**"], "src/a/b.py", False),
        (["**", "!keep", "!src/**"], "other", True),
        (["**", "!keep"], "keep/inner", False),  # an exception matching a parent re-includes
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README.md", False),
        (["dir", "!dir/sub", "dir/sub/x"], "dir/sub/x", True),
        (["dir", "!dir/sub", "dir/sub/x"], "dir/sub/y", False),
        (["a", "!a/b", "a/b/c"], "a/b/c/d", True),
    ],
)
def test_last_match_wins(patterns: list[str], path: str, excluded: bool) -> None:
    assert IgnoreMatcher.parse("\n".join(patterns)).excluded(path) is excluded


def test_the_file_format() -> None:
    text = (
        "\ufeff# a comment\n"
        "\n"
        "   \n"
        "  *.pyc  \n"
        " # not a comment: `#` only counts at the start of the line\n"
        "!  keep.pyc\n"
        "/abs/\n"
        "./rel\n"
        "a/./b/../c\r\n"
        "#!not-an-exception\n"
    )
    assert read_patterns(text) == [
        "*.pyc",
        "# not a comment: `#` only counts at the start of the line",
        "!keep.pyc",
        "abs",
        "rel",
        "a/c",
    ]
    m = IgnoreMatcher.parse(text)
    assert m.excluded("x.pyc") and not m.excluded("keep.pyc")
    assert m.excluded("abs/x") and m.excluded("rel") and m.excluded("a/c/d")
    assert not m.excluded("a/b/c") and not m.excluded("not-an-exception")


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [("", "."), (".", "."), ("a/", "a"), ("./a", "a"), ("a/../..", ".."), ("/../a", "/a"),
     ("//a//b/", "/a/b"), ("a/./b/.", "a/b"), ("../a/../b", "../b")],
)
def test_clean_is_go_filepath_clean(path: str, cleaned: str) -> None:
    assert clean(path) == cleaned


def test_empty_file_and_the_context_root() -> None:
    m = IgnoreMatcher.parse("")
    assert not m.excluded("anything") and m.may_include_under("dir")
    assert not IgnoreMatcher.parse("*").excluded(".")


@pytest.mark.parametrize(
    ("text", "message"),
    [("!", 'illegal exclusion pattern: "!"'), ("a\n! \n", 'illegal exclusion pattern: "!"'),
     ("a[b", "syntax error in pattern: a[b")],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(IgnoreFileError, match=r"^" + message.replace("[", r"\[") + "$"):
        IgnoreMatcher.parse(text)
    assert issubclass(IgnoreFileError, InvalidArgument)


@pytest.mark.parametrize(
    ("patterns", "directory", "walk"),
    [
        (["node_modules"], "node_modules", False),  # excluded, no exceptions
        (["node_modules"], "src", True),  # not excluded
        (["docs", "!docs/README.md"], "docs", True),  # an exception below it
        (["docs", "!docs/README.md"], "other", True),
        (["a", "!b/c"], "a", False),  # the exception is elsewhere
        (["a/b", "!a/b/c/d"], "a/b", True),
        (["a/b", "!a/b/c/d"], "a/b/c", True),
        (["a/b", "!a/b/c/d"], "a/b/x", False),
        (["a", "!a*/keep"], "ab", True),  # not excluded at all
        (["*", "!*/keep"], "ab", True),  # a wildcard component can match
        (["*", "!src/**/keep"], "src", True),
        (["*", "!src/**/keep"], "src/deep/deeper", True),  # ** can match any depth
        (["*", "!src/**/keep"], "lib", False),
        (["*", "!**/keep"], "lib", True),
        (["*", "!keep"], "keep", True),  # the exception names the directory itself
    ],
)
def test_may_include_under(patterns: list[str], directory: str, walk: bool) -> None:
    assert IgnoreMatcher.parse("\n".join(patterns)).may_include_under(directory) is walk


def test_is_dir_does_not_change_the_answer() -> None:
    m = IgnoreMatcher.parse("build/\n")
    assert m.excluded("build", is_dir=True) and m.excluded("build", is_dir=False)


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("[]a]x", "]x", True),  # a `]` first in a class is a member
        ("[]a]x", "ax", True),
        ("[a-]x", "-x", True),
        ("[a\\]]x", "]x", True),
        ("a[^b]c", "a/c", True),  # patternmatcher's regexp class: `/` is a character too
        ("a[!b]c", "a!c", True),  # `!` does not negate (a Go regexp class, not a shell glob)
        ("a[!b]c", "axc", False),
        ("*a*b*c*", "xxaxxbxxcxx", True),
        ("*a*b*c*", "xxaxxcxxbxx", False),
        ("**/a/**/b", "x/a/y/z/b", True),
        ("**/a/**/b", "x/a/b", True),
        ("**/a/**/b", "x/ab", False),
    ],
)
def test_classes_and_backtracking(pattern: str, path: str, excluded: bool) -> None:
    assert IgnoreMatcher.parse(pattern).excluded(path) is excluded


def test_the_module_stays_lean_for_pyctl() -> None:
    """pyctl imports it to walk a context: no re, dataclasses, typing, json or enum."""
    import subprocess
    import sys
    from pathlib import Path

    engine = Path(__file__).resolve().parents[3] / "engine"
    code = (
        f"import sys; sys.path.insert(0, {str(engine)!r}); import pyengine.build.ignore; "
        "print(sorted(m for m in ('re', 'dataclasses', 'typing', 'json', 'enum', 'inspect') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
