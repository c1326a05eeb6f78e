"""Small helpers for the COPY/ADD tests: a context tree, a rootfs, an ignore matcher."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pyengine.build.wildcard import match


class PatternIgnore:
    """A stand-in for build.ignore.IgnoreMatcher (its interface): filepath.Match patterns,
    a pattern that matches a directory excludes everything below it, no exceptions."""

    def __init__(self, *patterns: str) -> None:
        self.patterns = patterns

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        parts = relpath.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(match(p, prefix) for p in self.patterns for prefix in prefixes)

    def may_include_under(self, reldir: str) -> bool:
        return False


def write(path: Path, data: str | bytes = "", mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)
    return path


def make_rootfs(root: Path) -> Path:
    """A minimal rootfs with users root, app (1000:1001 group app) and group staff (50)."""
    write(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n")
    write(root / "etc/group", "root:x:0:\nstaff:x:50:\napp:x:1001:\n")
    write(root / "etc/shadow", "root:*:1::::::\n", 0o600)
    return root


def tree(root: Path) -> dict[str, tuple[str, int, int, int, str]]:
    """{relative path: (type, mode bits, uid, gid, content or link target)} below root."""
    out: dict[str, tuple[str, int, int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISDIR(st.st_mode):
                kind, detail = "d", ""
            elif stat.S_ISLNK(st.st_mode):
                kind, detail = "l", os.readlink(path)
            elif stat.S_ISFIFO(st.st_mode):
                kind, detail = "p", ""
            else:
                kind, detail = "f", Path(path).read_bytes().decode("utf-8", "replace")
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, detail)
    return out
