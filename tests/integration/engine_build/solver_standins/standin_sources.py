"""TEST-ONLY stand-in for build/sources.py: literal sources, content and modes hashed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyengine.build.errors import SourceNotFound


@dataclass(frozen=True)
class SourceTree:
    root: Path
    ignore: Any = None


def content_digest(tree: SourceTree, sources: Sequence[str]) -> str:
    h = hashlib.sha256()
    for source in sources:
        path = tree.root / source.strip("/")
        if not os.path.lexists(path):
            raise SourceNotFound(f"COPY failed: file not found in build context: {source}")
        items = [path] if path.is_file() else sorted(path.rglob("*"))
        for item in items:
            h.update(str(item.relative_to(tree.root)).encode() + b"\0")
            h.update(str(item.lstat().st_mode).encode())
            if item.is_file():
                h.update(item.read_bytes())
    return "sha256:" + h.hexdigest()
