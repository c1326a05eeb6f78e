"""TEST-ONLY stand-in for build/copyfiles.py: literal files and directories."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CopySpec:
    sources: tuple[str, ...]
    dest: str
    chown: str | None = None
    chmod: str | None = None
    heredocs: tuple[tuple[str, str], ...] = ()


def copy_into(tree: Any, spec: CopySpec, rootfs: Path) -> str:
    dest = rootfs / spec.dest.strip("/")
    for source in spec.sources:
        path = tree.root / source.strip("/")
        if path.is_dir():
            shutil.copytree(path, dest, symlinks=True, dirs_exist_ok=True)
            kind = "dir"
        else:
            target = dest / path.name if spec.dest.endswith("/") else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            kind = "file"
    return f"{kind}:" + hashlib.sha256(repr(spec).encode()).hexdigest()
