"""ADD <url>: download a file over http(s), as docker's classic builder does.

The file is named after the URL path's last component (else the Content-Disposition header's
filename), stored with mode 0600 and the Last-Modified time (the epoch without one), and
verified against `--checksum=sha256:<hex>` when given (BuildKit's "digest mismatch" error).
Downloads are never extracted. Git URLs are not supported (docker's classic builder does not
clone them either).
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pyengine.build.errors import SourceNotFound
from pyengine.build.sources import is_url
from pyengine.errors import InvalidArgument, Unavailable

__all__ = ["Download", "download", "fetch", "is_url", "url_digest"]

CHUNK = 1 << 20
UNNAMED = "__unnamed__"  # docker's name for a download whose URL names no file
TIMEOUT = 60.0
_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")


def check_checksum(checksum: str | None) -> None:
    if checksum is not None and not _CHECKSUM.fullmatch(checksum):
        raise InvalidArgument(f"invalid checksum digest format: {checksum!r} "
                              f"(want sha256:<64 hex digits>)")


def _name_from(url: str, disposition: str | None) -> str:
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    if path and not path.endswith("/"):
        name = path.rsplit("/", 1)[-1]
        if name not in ("", ".", ".."):
            return name
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        filename = msg.get_param("filename", header="content-disposition")
        if isinstance(filename, str) and filename and not filename.endswith("/"):
            name = filename.replace("\\", "/").rsplit("/", 1)[-1]
            if name not in ("", ".", ".."):
                return name
    return ""


def _last_modified(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Download:
    path: Path
    digest: str      # "sha256:<hex>" of the content
    named: bool      # whether the URL or the response gave a file name


def download(url: str, dest_dir: Path, checksum: str | None) -> Download:
    """Fetch `url` into `dest_dir` (its own name, else UNNAMED)."""
    check_checksum(checksum)
    if not is_url(url):
        raise InvalidArgument(f"unsupported URL {url!r}: only http and https are supported")
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT)  # http(s) only: checked above
    except urllib.error.HTTPError as exc:
        cls = SourceNotFound if exc.code == 404 else Unavailable
        raise cls(f"failed to GET {url} with status {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unavailable(f"failed to GET {url}: {reason}") from None
    with response:
        name = _name_from(url, response.headers.get("Content-Disposition"))
        dest_dir.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".download-", dir=dest_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    while chunk := response.read(CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                except OSError as exc:
                    raise Unavailable(f"failed to GET {url}: {exc}") from None
            digest = "sha256:" + h.hexdigest()
            if checksum is not None and digest != checksum:
                raise InvalidArgument(f"digest mismatch {digest}: {checksum}")
            os.chmod(tmp, 0o600)
            # docker: the Last-Modified time, else the zero time (the epoch)
            when = _last_modified(response.headers.get("Last-Modified")) or 0.0
            os.utime(tmp, (when, when))
            path = dest_dir / (name or UNNAMED)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Download(path, digest, bool(name))


def fetch(url: str, dest_dir: Path, checksum: str | None) -> Path:
    """Download `url` into `dest_dir`; the file's path (mode 0600)."""
    return download(url, dest_dir, checksum).path


def url_digest(url: str, checksum: str | None) -> str:
    """The cache key part of a URL source: the checksum when given, else the content's."""
    check_checksum(checksum)
    if checksum is not None:
        return checksum
    with tempfile.TemporaryDirectory(prefix="pyengine-add-") as tmp:
        return download(url, Path(tmp), None).digest
