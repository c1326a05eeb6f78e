"""pyctl build's context stream: a directory as a tar (stable order, owner 0:0, modes, mtimes,
symlinks, hard links once, 64 KiB chunks read as they are sent), .dockerignore applied with
the Dockerfile and .dockerignore always sent, unreadable files refused with docker's message,
and stdin sniffed as an archive (any compression, passed through) or a bare Dockerfile."""

from __future__ import annotations

import bz2
import fnmatch
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from pyengine.cli import build_context as bc

ENGINE = str(Path(__file__).resolve().parents[3] / "engine")


class StandInMatcher:
    """A small stand-in for pyengine.build.ignore.IgnoreMatcher (written by another helper):
    fnmatch patterns on the path or a parent, `!` exceptions, the last match wins."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [p for p in patterns if p and not p.startswith("#")]

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        result = False
        parts = relpath.split("/")
        for pattern in self.patterns:
            negate = pattern.startswith("!")
            body = pattern[1:] if negate else pattern
            if any(fnmatch.fnmatchcase("/".join(parts[:n]), body)
                   for n in range(1, len(parts) + 1)):
                result = not negate
        return result

    def may_include_under(self, reldir: str) -> bool:
        return any(p.startswith("!" + reldir + "/") for p in self.patterns)


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return tar.getmembers()


def build_tree(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM busybox\nCOPY . /app\n")
    (root / "b.txt").write_text("b\n")
    (root / "a").mkdir()
    (root / "a" / "z.sh").write_text("#!/bin/sh\n")
    (root / "a" / "z.sh").chmod(0o754)
    (root / "a" / "link").symlink_to("z.sh")
    os.link(root / "b.txt", root / "a" / "hard.txt")
    (root / "big.bin").write_bytes(os.urandom(200_000))
    os.utime(root / "b.txt", (1_600_000_000, 1_600_000_000))


def test_directory_tar_is_ordered_owned_by_root_and_keeps_modes_links_and_mtimes(
        tmp_path: Path) -> None:
    build_tree(tmp_path)
    chunks = list(bc.directory_tar(str(tmp_path)))
    assert all(len(c) == bc.CHUNK for c in chunks[:-1]) and len(chunks[-1]) <= bc.CHUNK
    data = b"".join(chunks)
    got = {m.name: m for m in members(data)}
    assert [m.name for m in members(data)] == [
        "Dockerfile", "a", "a/hard.txt", "a/link", "a/z.sh", "b.txt", "big.bin"]
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in got.values())
    assert got["a"].isdir()
    assert got["a/z.sh"].mode == 0o754
    assert got["a/link"].issym() and got["a/link"].linkname == "z.sh"
    # the first name of the linked file carries the content, the later one is a hard link
    assert got["a/hard.txt"].isfile() and got["b.txt"].islnk()
    assert got["b.txt"].linkname == "a/hard.txt"
    assert got["b.txt"].mtime == 1_600_000_000
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        big = tar.extractfile("big.bin")
        assert big is not None and big.read() == (tmp_path / "big.bin").read_bytes()


def test_files_are_read_as_the_chunks_are_taken(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.bin").write_bytes(b"x" * 300_000)
    (tmp_path / "z.txt").write_text("later\n")
    chunks = bc.directory_tar(str(tmp_path))
    next(chunks)  # a.bin's first bytes are out; z.txt has not been opened yet
    (tmp_path / "z.txt").unlink()
    with pytest.raises(bc.ContextError, match=r"open .*/z.txt: no such file or directory"):
        list(chunks)


def test_dockerignore_excludes_but_the_dockerfile_and_dockerignore_are_always_sent(
        tmp_path: Path) -> None:
    build_tree(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile.dev").write_text("FROM busybox\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "x.log").write_text("x")
    (tmp_path / "logs" / "keep.log").write_text("k")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key").write_text("k")
    ignore = ["*.bin", "logs", "!logs/keep.log", "secret", "Dockerfile", ".dockerignore",
              "sub", "a/link"]
    (tmp_path / ".dockerignore").write_text("\n".join(ignore) + "\n")
    matcher = StandInMatcher(ignore)
    names = [m.name for m in members(b"".join(bc.directory_tar(
        str(tmp_path), matcher, [".dockerignore", "sub/Dockerfile.dev"])))]
    assert names == [".dockerignore", "a", "a/hard.txt", "a/z.sh", "b.txt", "logs/keep.log",
                     "sub/Dockerfile.dev"]


def test_an_unreadable_file_fails_before_anything_is_sent() -> None:
    base = Path(tempfile.mkdtemp(prefix="pyctl-ctx-", dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "Dockerfile").write_text("FROM busybox\n")
        (base / "private").write_text("p")
        (base / "private").chmod(0)
        (base / "closed").mkdir(mode=0)
        code = ("import sys\nfrom pyengine.cli import build_context as bc\n"
                "try:\n    bc.directory_tar(sys.argv[1])\nexcept bc.ContextError as e:\n"
                "    print(e)\n")
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        argv = [*(drop if os.geteuid() == 0 else []), sys.executable, "-c", code, str(base)]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": ENGINE})
        # docker 28's texts (checked with its CLI as uid 65534)
        assert out.stdout == f"error checking context: can't stat '{base}/closed'\n"
        (base / "closed").rmdir()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": ENGINE})
        assert out.stdout == (
            f"error checking context: no permission to read from '{base}/private'\n")
    finally:
        shutil.rmtree(base)


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        body = b"FROM busybox\n"
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


@pytest.mark.parametrize("compress", [
    lambda d: d, gzip.compress, bz2.compress, lzma.compress,
    lambda d: b"\x28\xb5\x2f\xfd" + d,  # zstd's magic: passed through, the daemon decodes it
], ids=["tar", "gzip", "bzip2", "xz", "zstd"])
def test_stdin_archives_pass_through_unchanged(compress) -> None:
    data = compress(tar_bytes() * 30)
    piped = bc.read_stdin(io.BytesIO(data))
    assert piped.dockerfile is None
    chunks = list(piped.chunks)
    assert b"".join(chunks) == data and all(len(c) <= bc.CHUNK for c in chunks)


@pytest.mark.parametrize("text", [b"", b"FROM busybox\n", b"FROM busybox\n" + b"# pad\n" * 400])
def test_stdin_that_is_not_an_archive_is_the_dockerfile(text: bytes) -> None:
    piped = bc.read_stdin(io.BytesIO(text))
    assert piped.dockerfile == text
    assert list(piped.chunks) == []
