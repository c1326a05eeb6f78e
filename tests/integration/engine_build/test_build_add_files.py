"""ADD: local archives extracted (told by their bytes, not their names) without leaving the
destination, URLs downloaded from a local http server with --checksum, never extracted."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import http.server
import io
import lzma
import os
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from copy_helpers import make_rootfs, tree, write
from pyengine.build.addfiles import add_into
from pyengine.build.copyfiles import CopySpec
from pyengine.build.errors import SourceNotFound
from pyengine.build.fetch import fetch, url_digest
from pyengine.build.sources import SourceTree, content_digest
from pyengine.errors import InvalidArgument

pytestmark = pytest.mark.root


def tar_bytes(*members: tuple[str, bytes | str | None, str]) -> bytes:
    """A tar of (name, data, kind) members: kind "f" file (uid 1234), "d" dir, "l" symlink
    (data is the target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 1234
            info.mtime = 1_000_000
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o750
                tf.addfile(info)
            elif kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
                tf.addfile(info)
            else:
                raw = data.encode() if isinstance(data, str) else data or b""
                info.size, info.mode = len(raw), 0o640
                tf.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


SIMPLE = tar_bytes(("pkg", None, "d"), ("pkg/a", "A\n", "f"), (".wh.keep", "w\n", "f"))
COMPRESSORS = {"plain": lambda b: b, "gzip": gzip.compress, "bzip2": bz2.compress,
               "xz": lzma.compress}


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    (tmp_path / "ctx").mkdir()
    return tmp_path / "ctx"


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return make_rootfs(tmp_path / "rootfs")


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_local_archives_are_extracted(ctx: Path, rootfs: Path, tmp_path: Path,
                                      compression: str) -> None:
    write(ctx / "data.bin", COMPRESSORS[compression](SIMPLE))  # the name says nothing
    detail = add_into(SourceTree(ctx), CopySpec(("data.bin",), "/opt/x"), rootfs, None,
                      tmp_path / "dl")
    assert detail.startswith("file:")
    got = tree(rootfs)
    assert got["opt/x/pkg"] == ("d", 0o750, 1234, 1234, "")  # the archive's owners and modes
    assert got["opt/x/pkg/a"] == ("f", 0o640, 1234, 1234, "A\n")
    assert got["opt/x/.wh.keep"][0::4] == ("f", "w\n")  # no whiteout handling, as docker
    assert "opt/x/data.bin" not in got


def test_non_archives_are_copied(ctx: Path, rootfs: Path, tmp_path: Path) -> None:
    write(ctx / "fake.tar.gz", gzip.compress(b"not a tar at all"))
    write(ctx / "empty.tar", bytes(1024))
    write(ctx / "plain.txt", "text\n", 0o600)
    add_into(SourceTree(ctx), CopySpec(("fake.tar.gz", "empty.tar", "plain.txt"), "/f/",
                                       chown="app"), rootfs, None, tmp_path / "dl")
    got = tree(rootfs)
    assert got["f/fake.tar.gz"][0:4] == ("f", 0o644, 1000, 1001)
    assert got["f/empty.tar"][0] == "f"
    assert got["f/plain.txt"] == ("f", 0o600, 1000, 1001, "text\n")


@pytest.mark.parametrize("members", [
    (("../escape", "x", "f"),),
    (("/abs/../../escape", "x", "f"),),
    (("link", "/", "l"), ("link/escape", "x", "f")),
    (("up", "../../..", "l"), ("up/escape", "x", "f")),
], ids=["dotdot", "absolute-dotdot", "abs-symlink-dir", "rel-symlink-dir"])
def test_hostile_archives_stay_inside(ctx: Path, rootfs: Path, tmp_path: Path,
                                      members: tuple[tuple[str, str, str], ...]) -> None:
    write(ctx / "evil.tar", tar_bytes(*members))
    (rootfs / "dest").mkdir()
    before = set(os.listdir(tmp_path)), set(os.listdir(rootfs))
    with pytest.raises(InvalidArgument):
        add_into(SourceTree(ctx), CopySpec(("evil.tar",), "/dest/"), rootfs, None,
                 tmp_path / "dl")
    assert (set(os.listdir(tmp_path)), set(os.listdir(rootfs))) == before
    assert not any("escape" in p and not p.startswith("dest/") for p in tree(rootfs))


def test_absolute_symlinks_in_archives_are_kept_as_links(ctx: Path, rootfs: Path,
                                                         tmp_path: Path) -> None:
    write(ctx / "l.tgz", gzip.compress(tar_bytes(("etc-link", "/etc", "l"))))
    add_into(SourceTree(ctx), CopySpec(("l.tgz",), "/d"), rootfs, None, tmp_path / "dl")
    assert os.readlink(rootfs / "d/etc-link") == "/etc"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local http server (127.0.0.1) serving tmp_path/www; stopped after the test."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_url_downloads(ctx: Path, rootfs: Path, tmp_path: Path,
                       server: tuple[str, Path]) -> None:
    base, www = server
    payload = gzip.compress(SIMPLE)
    write(www / "pkg.tar.gz", payload)
    os.utime(www / "pkg.tar.gz", (1_500_000_000, 1_500_000_000))
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    url = f"{base}/pkg.tar.gz"
    detail = add_into(SourceTree(ctx), CopySpec((url,), "/dl/"), rootfs, digest,
                      tmp_path / "downloads")
    assert detail.startswith("file:")
    got = tree(rootfs)
    assert got["dl"][0:4] == ("d", 0o755, 0, 0)
    assert got["dl/pkg.tar.gz"][0:4] == ("f", 0o600, 0, 0)  # never extracted, mode 0600
    assert (rootfs / "dl/pkg.tar.gz").read_bytes() == payload
    assert os.stat(rootfs / "dl/pkg.tar.gz").st_mtime == 1_500_000_000  # Last-Modified
    add_into(SourceTree(ctx), CopySpec((url,), "/named"), rootfs, None, tmp_path / "d2")
    assert (rootfs / "named").read_bytes() == payload
    assert url_digest(url, None) == digest
    # the context part of an ADD's key leaves URLs to url_digest
    write(ctx / "local", "l\n")
    assert content_digest(SourceTree(ctx), [url, "local"]) == \
        content_digest(SourceTree(ctx), ["local"])
    assert url_digest(url, digest) == digest
    assert fetch(url, tmp_path / "d3", digest).name == "pkg.tar.gz"


def test_url_errors(ctx: Path, rootfs: Path, tmp_path: Path,
                    server: tuple[str, Path]) -> None:
    base, www = server
    write(www / "f", "content\n")
    wrong = "sha256:" + "0" * 64
    actual = "sha256:" + hashlib.sha256(b"content\n").hexdigest()
    with pytest.raises(InvalidArgument, match=f"^digest mismatch {actual}: {wrong}$"):
        add_into(SourceTree(ctx), CopySpec((f"{base}/f",), "/x"), rootfs, wrong, tmp_path / "d")
    assert not (rootfs / "x").exists()
    assert not any(p.is_file() for p in (tmp_path / "d").rglob("*"))
    with pytest.raises(InvalidArgument, match="invalid checksum digest format"):
        add_into(SourceTree(ctx), CopySpec((f"{base}/f",), "/x"), rootfs, "md5:00",
                 tmp_path / "d")
    with pytest.raises(SourceNotFound, match=r"failed to GET .*/missing with status 404"):
        add_into(SourceTree(ctx), CopySpec((f"{base}/missing",), "/x"), rootfs, None,
                 tmp_path / "d")
    write(ctx / "local", "l\n")
    with pytest.raises(InvalidArgument, match="checksum can't be specified for non-HTTP"):
        add_into(SourceTree(ctx), CopySpec(("local",), "/x"), rootfs, actual, tmp_path / "d")
