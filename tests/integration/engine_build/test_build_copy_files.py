"""COPY's file semantics (docker 20.10 classic builder): destinations, owners, modes, times,
wildcards, symlinks, hard links, heredocs, created_by details and the cache digest."""

from __future__ import annotations

import os
import re
import resource
import struct
from pathlib import Path

import pytest
from copy_helpers import PatternIgnore, make_rootfs, tree, write
from pyengine.build.copyfiles import CopySpec, copy_into
from pyengine.build.errors import SourceNotFound
from pyengine.build.sources import SourceTree, content_digest
from pyengine.errors import InvalidArgument

pytestmark = pytest.mark.root


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    write(root / "a.txt", "alpha\n", 0o640)
    write(root / "b.txt", "beta\n")
    write(root / "run.sh", "#!/bin/sh\n", 0o755)
    write(root / "d/c.txt", "gamma\n")
    write(root / "d/sub/deep", "deep\n", 0o600)
    os.symlink("c.txt", root / "d/link")
    os.symlink("/etc/passwd", root / "d/abs")
    os.link(root / "d/c.txt", root / "d/hard")
    os.mkfifo(root / "d/fifo")
    os.chmod(root / "d/fifo", 0o620)
    os.symlink("a.txt", root / "alias")
    os.symlink("d", root / "dlink")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), 1234, 1234)
    os.utime(root / "a.txt", ns=(1_000_000_000, 1_000_000_000))
    return root


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return make_rootfs(tmp_path / "rootfs")


def test_file_into_directory_and_renamed(ctx: Path, rootfs: Path) -> None:
    detail = copy_into(SourceTree(ctx), CopySpec(("a.txt",), "/app/"), rootfs)
    assert re.fullmatch(r"file:[0-9a-f]{64}", detail)
    copy_into(SourceTree(ctx), CopySpec(("/b.txt",), "/app/new/name"), rootfs)
    got = tree(rootfs)
    assert got["app"] == ("d", 0o755, 0, 0, "")
    assert got["app/a.txt"] == ("f", 0o640, 0, 0, "alpha\n")
    assert got["app/new"] == ("d", 0o755, 0, 0, "")
    assert got["app/new/name"] == ("f", 0o644, 0, 0, "beta\n")
    assert os.stat(rootfs / "app/a.txt").st_mtime_ns == 1_000_000_000
    # an existing directory takes the file inside it even without a trailing slash
    copy_into(SourceTree(ctx), CopySpec(("run.sh",), "/app"), rootfs)
    assert tree(rootfs)["app/run.sh"] == ("f", 0o755, 0, 0, "#!/bin/sh\n")


def test_directory_contents_symlinks_fifo_hardlinks(ctx: Path, rootfs: Path) -> None:
    (rootfs / "srv").mkdir(mode=0o700)
    os.chown(rootfs / "srv", 7, 7)
    detail = copy_into(SourceTree(ctx), CopySpec(("d",), "/srv"), rootfs)
    assert re.fullmatch(r"dir:[0-9a-f]{64}", detail)
    got = tree(rootfs)
    assert got["srv"] == ("d", 0o700, 7, 7, "")  # an existing destination keeps its metadata
    assert got["srv/c.txt"] == ("f", 0o644, 0, 0, "gamma\n")
    assert got["srv/sub/deep"] == ("f", 0o600, 0, 0, "deep\n")
    assert got["srv/link"] == ("l", 0o777, 0, 0, "c.txt")
    assert got["srv/abs"] == ("l", 0o777, 0, 0, "/etc/passwd")  # copied, never followed
    assert got["srv/fifo"] == ("p", 0o620, 0, 0, "")
    assert os.stat(rootfs / "srv/hard").st_ino == os.stat(rootfs / "srv/c.txt").st_ino
    assert "srv/d" not in got


def test_named_symlinks_are_followed_in_the_context(ctx: Path, rootfs: Path) -> None:
    copy_into(SourceTree(ctx), CopySpec(("alias", "dlink"), "/x/"), rootfs)
    got = tree(rootfs)
    assert got["x/alias"] == ("f", 0o640, 0, 0, "alpha\n")  # the link's name, the target's data
    assert got["x/c.txt"][4] == "gamma\n"  # a directory named through a link: its contents


def test_wildcards(ctx: Path, rootfs: Path) -> None:
    detail = copy_into(SourceTree(ctx), CopySpec(("*.txt", "d/*.txt"), "/w/"), rootfs)
    assert re.fullmatch(r"multi:[0-9a-f]{64}", detail)
    assert sorted(p for p in tree(rootfs) if p.startswith("w/")) == \
        ["w/a.txt", "w/b.txt", "w/c.txt"]
    with pytest.raises(SourceNotFound, match=r"^COPY failed: no source files were specified$"):
        copy_into(SourceTree(ctx), CopySpec(("*.none",), "/w/"), rootfs)
    copy_into(SourceTree(ctx), CopySpec(("[^b].tx?",), "/one"), rootfs)  # one match: a file
    assert tree(rootfs)["one"][4] == "alpha\n"


def test_errors(ctx: Path, rootfs: Path) -> None:
    with pytest.raises(SourceNotFound) as err:
        copy_into(SourceTree(ctx), CopySpec(("./missing.txt",), "/x"), rootfs)
    assert str(err.value) == ("COPY failed: file not found in build context or excluded by "
                              ".dockerignore: stat missing.txt: file does not exist")
    with pytest.raises(InvalidArgument, match="When using COPY with more than one source file, "
                       "the destination must be a directory and end with a /"):
        copy_into(SourceTree(ctx), CopySpec(("a.txt", "b.txt"), "/x"), rootfs)
    with pytest.raises(InvalidArgument, match="can't find uid for user nobody"):
        copy_into(SourceTree(ctx), CopySpec(("a.txt",), "/x", chown="nobody"), rootfs)
    with pytest.raises(InvalidArgument, match="invalid chmod"):
        copy_into(SourceTree(ctx), CopySpec(("a.txt",), "/x", chmod="9"), rootfs)


def test_chown_chmod(ctx: Path, rootfs: Path) -> None:
    copy_into(SourceTree(ctx), CopySpec(("d",), "/o/p/", chown="app:staff"), rootfs)
    got = tree(rootfs)
    assert got["o"][2:4] == (1000, 50) and got["o/p"][2:4] == (1000, 50)  # dirs COPY created
    assert got["o/p/sub/deep"][1:4] == (0o600, 1000, 50)
    assert os.lstat(rootfs / "o/p/link").st_uid == 1000
    copy_into(SourceTree(ctx), CopySpec(("a.txt",), "/u/", chown="app", chmod="751"), rootfs)
    assert tree(rootfs)["u/a.txt"][1:4] == (0o751, 1000, 1001)  # a lone user names the group
    copy_into(SourceTree(ctx), CopySpec(("b.txt",), "/n", chown="1234"), rootfs)
    assert tree(rootfs)["n"][2:4] == (1234, 1234)


def test_heredoc(ctx: Path, rootfs: Path) -> None:
    detail = copy_into(SourceTree(ctx), CopySpec((), "/h/", heredocs=(("run", "echo hi\n"),)),
                       rootfs)
    assert detail.startswith("file:")
    assert tree(rootfs)["h/run"] == ("f", 0o644, 0, 0, "echo hi\n")


def test_ignored_files_are_invisible(ctx: Path, rootfs: Path) -> None:
    ignored = SourceTree(ctx, PatternIgnore("d/sub", "b.txt"))
    copy_into(ignored, CopySpec(("d", "*.txt"), "/i/"), rootfs)
    got = tree(rootfs)
    assert "i/sub" not in got and "i/b.txt" not in got and "i/a.txt" in got
    with pytest.raises(SourceNotFound, match=r"excluded by \.dockerignore: stat b\.txt"):
        copy_into(ignored, CopySpec(("b.txt",), "/i/"), rootfs)
    copy_into(ignored, CopySpec((".",), "/all"), rootfs)  # the whole context
    got = tree(rootfs)
    assert "all/a.txt" in got and "all/d/c.txt" in got
    assert "all/b.txt" not in got and "all/d/sub" not in got


def test_many_directories_with_few_descriptors(tmp_path: Path, rootfs: Path) -> None:
    """Descriptors stay bounded: 1,200 directories copied under a limit of 400 open files (the
    directory cache keeps up to 256)."""
    ctx = tmp_path / "many"
    for i in range(1200):
        write(ctx / f"d{i:04}/sub/f", str(i))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (400, hard))
    try:
        copy_into(SourceTree(ctx), CopySpec((".",), "/m/"), rootfs)
        digest = content_digest(SourceTree(ctx), ["d*"])
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert (rootfs / "m/d1199/sub/f").read_text() == "1199"
    assert digest.startswith("sha256:")


def test_content_digest(ctx: Path) -> None:
    t = SourceTree(ctx)
    words = ["d", "a.txt"]
    first = content_digest(t, words)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    os.utime(ctx / "d/sub/deep", ns=(5, 5))  # mtimes never count
    os.chown(ctx / "a.txt", 0, 0)  # nor owners
    assert content_digest(t, words) == first
    write(ctx / "d/sub/deep", "deeP\n", 0o600)  # one byte does
    second = content_digest(t, words)
    assert second != first
    (ctx / "d/sub/deep").chmod(0o640)  # so does a mode
    third = content_digest(t, words)
    assert third != second
    os.unlink(ctx / "d/link")
    os.symlink("other", ctx / "d/link")  # and a link target
    assert content_digest(t, words) != third
    ignored = SourceTree(ctx, PatternIgnore("d/sub"))
    before = content_digest(ignored, words)
    write(ctx / "d/sub/deep", "changed\n")  # an ignored file does not
    assert content_digest(ignored, words) == before
    assert content_digest(t, ["b.txt"]) != content_digest(t, ["run.sh"])
    with pytest.raises(SourceNotFound):
        content_digest(t, ["nope"])


def test_file_capabilities_are_kept(ctx: Path, rootfs: Path) -> None:
    """security.capability survives the copy (set after the chown that would clear it) and
    is part of the digest; docker's tar carries this one xattr."""
    cap = struct.pack("<5I", 0x02000001, 1 << 10, 0, 0, 0)  # v2: cap_net_bind_service+ep
    before = content_digest(SourceTree(ctx), ["run.sh"])
    os.setxattr(ctx / "run.sh", "security.capability", cap)
    assert content_digest(SourceTree(ctx), ["run.sh"]) != before
    copy_into(SourceTree(ctx), CopySpec(("run.sh",), "/bin/", chown="app"), rootfs)
    assert os.getxattr(rootfs / "bin/run.sh", "security.capability") == cap
