"""pyctl build's own tar headers (tarfile costs too much start-up): what they encode is read
back the same by Python's tarfile and by GNU tar, long and non-ASCII names and link targets
through PAX headers; the archive sniffing accepts the headers of every tar format and refuses
text."""

from __future__ import annotations

import io
import subprocess
import tarfile
from typing import Literal

import pytest
from pyengine.cli import build_context as bc
from pyengine.cli import tar_headers as th

LONG = "d" * 60 + "/" + "f" * 70  # 131 bytes: past ustar's 100-byte name field
UNICODE = "données/ünïcode-✓.txt"


def archive() -> bytes:
    body = b"hello\n"
    parts = [
        th.header("dir/", 0o755, 0, 1_700_000_000, th.DIRTYPE),
        th.header("dir/file", 0o640, len(body), 1_600_000_000, th.REGTYPE), body,
        b"\0" * (th.BLOCK - len(body)),
        th.header("dir/hard", 0o640, 0, 1_600_000_000, th.LNKTYPE, "dir/file"),
        th.header(LONG, 0o600, 0, 1, th.REGTYPE),
        th.header(UNICODE, 0o644, 0, 2, th.REGTYPE),
        th.header("dir/link", 0o777, 0, 3, th.SYMTYPE, "/" + "t" * 150),
        th.header("dir/fifo", 0o600, 0, 4, th.FIFOTYPE),
        b"\0" * (2 * th.BLOCK),
    ]
    return b"".join(parts)


def test_python_tarfile_reads_back_every_field() -> None:
    with tarfile.open(fileobj=io.BytesIO(archive()), mode="r:") as tar:
        got = {m.name: m for m in tar.getmembers()}
        data = tar.extractfile("dir/file")
        assert data is not None and data.read() == b"hello\n"
    assert list(got) == ["dir", "dir/file", "dir/hard", LONG, UNICODE, "dir/link", "dir/fifo"]
    assert all((m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "") for m in got.values())
    assert got["dir"].isdir() and got["dir"].mode == 0o755 and got["dir"].mtime == 1_700_000_000
    assert got["dir/file"].mode == 0o640 and got["dir/file"].size == 6
    assert got["dir/hard"].islnk() and got["dir/hard"].linkname == "dir/file"
    assert got["dir/link"].issym() and got["dir/link"].linkname == "/" + "t" * 150
    assert got["dir/fifo"].isfifo()


def test_gnu_tar_lists_the_same_entries() -> None:
    out = subprocess.run(["tar", "--numeric-owner", "-tvf", "-"], input=archive(),
                         capture_output=True, check=True, timeout=60).stdout.decode()
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["drwxr-xr-x", "0/0"], ["-rw-r-----", "0/0"], ["hrw-r-----", "0/0"],
        ["-rw-------", "0/0"], ["-rw-r--r--", "0/0"], ["lrwxrwxrwx", "0/0"],
        ["prw-------", "0/0"]]
    assert lines[3].endswith(LONG) and lines[4].endswith(UNICODE)
    assert lines[2].endswith("dir/hard link to dir/file")
    assert lines[5].endswith("dir/link -> /" + "t" * 150)


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_headers_of_every_format_are_archives(fmt: Literal[0, 1, 2]) -> None:
    info = tarfile.TarInfo("Dockerfile")
    info.uname = "ünïcode"  # a byte above 127 in the header (PAX moves it to a record)
    block = info.tobuf(fmt, "utf-8", "surrogateescape")[:th.BLOCK]
    assert th.is_header(block) and bc.is_archive(block)
    assert th.is_header(th.header("x", 0o644, 0, 0, th.REGTYPE))


@pytest.mark.parametrize("text", [b"\0" * 1024, b"FROM busybox\n" * 80, b"x" * 1024])
def test_text_and_empty_blocks_are_not_archives(text: bytes) -> None:
    assert not th.is_header(text) and not bc.is_archive(text)
