"""pyrunc.linux.paths.resolve_in_root: symlinks are followed as if root were "/", never out of it.
Runs in a temp dir with ordinary files and symlinks (no root, no mounts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrunc.errors import KernelError
from pyrunc.linux import paths


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "rootfs"
    (r / "etc").mkdir(parents=True)
    (r / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    (r / "usr" / "lib").mkdir(parents=True)
    (r / "data").mkdir()
    (r / "file").write_text("x")
    os.symlink("/etc", r / "abs-etc")                 # absolute: restarts at root
    os.symlink("../../../../../../..", r / "up")       # climbs: stops at root
    os.symlink("/../../etc", r / "abs-up-etc")
    os.symlink("usr/lib", r / "lib")                  # relative
    os.symlink("../etc", r / "usr" / "etc-rel")       # relative with ..
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    os.symlink("self", r / "self")
    os.symlink("/abs-etc/passwd", r / "chain")        # link to a link
    os.symlink(str(tmp_path), r / "host-tmp")         # absolute host path: taken inside root
    (tmp_path / "outside").write_text("secret")
    return r


@pytest.mark.parametrize(("path", "expected"), [
    ("/", ""),
    ("", ""),
    ("/etc/passwd", "etc/passwd"),
    ("etc/./passwd", "etc/passwd"),
    ("//etc//passwd", "etc/passwd"),
    ("/abs-etc/passwd", "etc/passwd"),
    ("/up/etc", "etc"),
    ("/up", ""),
    ("/abs-up-etc/passwd", "etc/passwd"),
    ("/../../../etc", "etc"),
    ("/etc/../../../data", "data"),
    ("/lib/x", "usr/lib/x"),
    ("/usr/etc-rel/passwd", "etc/passwd"),
    ("/chain", "etc/passwd"),
    ("/missing/dir/file", "missing/dir/file"),
    ("/missing/../etc", "etc"),
    ("/abs-etc/../data", "data"),
])
def test_resolves_inside_root(root: Path, path: str, expected: str) -> None:
    result = paths.resolve_in_root(str(root), path)
    assert result == os.path.join(str(root), expected).rstrip("/") or result == str(root)
    assert paths.within(str(root), result)


def test_absolute_host_path_link_is_rooted(root: Path, tmp_path: Path) -> None:
    result = paths.resolve_in_root(str(root), "/host-tmp/outside")
    assert result == str(root) + str(tmp_path) + "/outside"
    assert not os.path.exists(result)  # the host file is not reachable through it


@pytest.mark.parametrize("path", ["/loop1", "/loop2/x", "/self", "/self/a/b"])
def test_symlink_loops_are_an_error(root: Path, path: str) -> None:
    with pytest.raises(KernelError, match="too many levels of symbolic links"):
        paths.resolve_in_root(str(root), path)


def test_component_below_a_file(root: Path) -> None:
    with pytest.raises(KernelError, match="not a directory"):
        paths.resolve_in_root(str(root), "/file/x")


def test_every_result_stays_inside_root(root: Path) -> None:
    names = ["..", ".", "up", "abs-etc", "abs-up-etc", "lib", "usr", "etc-rel", "chain",
             "host-tmp", "missing", "etc"]
    resolved = set()
    for first in names:
        for second in names:
            for third in ("", "passwd", ".."):
                path = "/".join(p for p in (first, second, third) if p)
                try:
                    result = paths.resolve_in_root(str(root), path)
                except KernelError:
                    continue
                real = os.path.realpath(result)
                assert paths.within(os.path.realpath(root), real), (path, result, real)
                resolved.add(path)
    # the escapes were resolved (inside root), not merely refused
    assert {"../etc", "up/up/passwd", "abs-up-etc/..", "host-tmp/up/..", "up/chain",
            "abs-etc/up/.."} <= resolved


def test_trailing_slash_on_root(root: Path) -> None:
    assert paths.resolve_in_root(str(root) + "/", "/etc") == str(root / "etc")


def test_within() -> None:
    assert paths.within("/r", "/r")
    assert paths.within("/r", "/r/a")
    assert not paths.within("/r", "/rx")
    assert not paths.within("/r", "/")
    assert paths.within("/", "/anything")
