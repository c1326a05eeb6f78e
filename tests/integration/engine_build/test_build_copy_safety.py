"""COPY never reads outside its source tree nor writes outside the rootfs: hostile symlinks
in the context and in the rootfs, `..` in sources, symlinks replacing destination dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from copy_helpers import make_rootfs, tree, write
from pyengine.build.copyfiles import CopySpec, copy_into
from pyengine.build.errors import SourceNotFound
from pyengine.build.sources import SourceTree, content_digest

pytestmark = pytest.mark.root

SECRET = "host secret\n"
HOST_SHADOW = Path("/etc/shadow").read_text()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A host directory next to the context and rootfs that nothing may read or write."""
    out = tmp_path / "outside"
    write(out / "secret", SECRET, 0o600)
    return out


@pytest.fixture
def ctx(tmp_path: Path, outside: Path) -> Path:
    root = tmp_path / "ctx"
    write(root / "app/main.py", "print('hi')\n")
    os.symlink("/etc/shadow", root / "app/shadow")
    os.symlink("../..", root / "app/up")
    os.symlink(str(outside / "secret"), root / "app/host-secret")
    os.symlink("/etc/shadow", root / "shadow")
    os.symlink("../../..", root / "top")
    os.symlink(str(outside), root / "out")
    return root


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return make_rootfs(tmp_path / "rootfs")


def _no_secret(root: Path) -> None:
    for rel, (kind, _, _, _, detail) in tree(root).items():
        if kind == "f":
            assert SECRET not in detail and detail != HOST_SHADOW, rel


def test_context_symlinks_are_copied_not_followed(ctx: Path, rootfs: Path) -> None:
    copy_into(SourceTree(ctx), CopySpec(("app",), "/app"), rootfs)
    got = tree(rootfs)
    assert got["app/shadow"][0::4] == ("l", "/etc/shadow")
    assert got["app/up"][0::4] == ("l", "../..")
    assert got["app/host-secret"][0] == "l"
    _no_secret(rootfs / "app")


def test_named_symlinks_stay_in_the_context(ctx: Path, rootfs: Path, outside: Path) -> None:
    tree_ = SourceTree(ctx)
    # /etc/shadow is looked up in the context (it has none), never on the host
    with pytest.raises(SourceNotFound, match="stat shadow: file does not exist"):
        copy_into(tree_, CopySpec(("shadow",), "/x"), rootfs)
    with pytest.raises(SourceNotFound):
        copy_into(tree_, CopySpec(("out/secret",), "/x"), rootfs)
    with pytest.raises(SourceNotFound):
        content_digest(tree_, ["app/host-secret"])
    # a link to ../../.. is the context root: its contents, not the host's
    copy_into(tree_, CopySpec(("top",), "/t/"), rootfs)
    assert "t/app/main.py" in tree(rootfs)
    assert "t/outside" not in tree(rootfs)
    _no_secret(rootfs / "t")


def test_dotdot_and_absolute_sources_are_cleaned(ctx: Path, rootfs: Path) -> None:
    with pytest.raises(SourceNotFound, match=r"stat \.\./\.\./etc/passwd: file does not exist"):
        copy_into(SourceTree(ctx), CopySpec(("../../etc/passwd",), "/x"), rootfs)
    write(ctx / "etc/passwd", "context passwd\n")
    for word in ("../../etc/passwd", "/etc/passwd", "app/../../etc/passwd"):
        copy_into(SourceTree(ctx), CopySpec((word,), "/p"), rootfs)
        assert (rootfs / "p").read_text() == "context passwd\n"


def test_destination_symlinks_resolve_inside_the_rootfs(ctx: Path, rootfs: Path,
                                                        outside: Path, tmp_path: Path) -> None:
    os.symlink("/", rootfs / "slash")
    os.symlink("../../../../../..", rootfs / "up")
    os.symlink(str(outside), rootfs / "host")
    os.symlink("/etc/passwd", rootfs / "pw")
    copy_into(SourceTree(ctx), CopySpec(("app/main.py",), "/slash/"), rootfs)
    copy_into(SourceTree(ctx), CopySpec(("app/main.py",), "/up/x/y"), rootfs)
    copy_into(SourceTree(ctx), CopySpec(("app",), "/host/sub"), rootfs)
    copy_into(SourceTree(ctx), CopySpec(("app/main.py",), "/pw"), rootfs)
    got = tree(rootfs)
    assert got["main.py"][0] == "f"
    assert got["x/y"][0] == "f"
    assert got[os.path.relpath(outside, "/") + "/sub/main.py"][0] == "f"  # under the rootfs
    assert got["etc/passwd"][4] == "print('hi')\n"  # the link's target in the rootfs
    assert sorted(os.listdir(outside)) == ["secret"]
    assert not (tmp_path / "main.py").exists() and not Path("/main.py").exists()


def test_symlinked_directories_in_the_rootfs_are_replaced(ctx: Path, rootfs: Path,
                                                          outside: Path) -> None:
    """A directory the copy writes into that is a symlink in the destination tree (below the
    resolved destination) is replaced by a directory, never written through."""
    (rootfs / "srv").mkdir()
    os.symlink(str(outside), rootfs / "srv/app")
    write(ctx / "tree/app/new", "new\n")
    copy_into(SourceTree(ctx), CopySpec(("tree",), "/srv"), rootfs)
    assert (rootfs / "srv/app").is_dir() and not (rootfs / "srv/app").is_symlink()
    assert (rootfs / "srv/app/new").read_text() == "new\n"
    assert sorted(os.listdir(outside)) == ["secret"]
