"""The build context: the client's tar stream (plain or compressed) spooled and extracted with
the engine's safe extractor into <data-root>/builder/contexts/<build-id>/ (nothing is written
outside it, device nodes are dropped), then .dockerignore applied again, as docker's daemon does
for a tar context. The directory is removed when the build ends; recover removes leftovers."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from pyengine.errors import InvalidArgument

KEEP = ("Dockerfile", ".dockerignore")


async def receive(chunks: AsyncIterator[bytes], spool: IO[bytes]) -> int:
    """Write the context's chunks to `spool`; the byte count."""
    import asyncio

    total = 0
    async for chunk in chunks:
        await asyncio.to_thread(spool.write, chunk)
        total += len(chunk)
    return total


def extract(spool: Path, dest: Path, ignore_text: str | None, dockerfile: str) -> str | None:
    """Blocking: the spooled tar into `dest` (made here, mode 0700); the .dockerignore text
    applied (None: none), which COPY/ADD apply too (the Dockerfile and .dockerignore stay on
    disk for the build, and are copied only if not excluded)."""
    from pyengine import archive

    dest.mkdir(mode=0o700, parents=True)
    if spool.stat().st_size:
        with open(spool, "rb") as raw:
            try:
                archive.apply_layer(raw, None, dest, whiteouts="remove")
            except archive.ArchiveError as err:
                raise InvalidArgument(f"build context: {err}") from err
    _drop_devices(dest)
    if ignore_text is None:
        path = dest / ".dockerignore"
        if path.is_file() and not path.is_symlink():
            ignore_text = path.read_text(errors="replace")
    if ignore_text:
        apply_ignore(dest, ignore_text, keep={*KEEP, dockerfile.lstrip("/")})
    return ignore_text


def apply_ignore(root: Path, text: str, keep: set[str]) -> None:
    """Remove what .dockerignore excludes (the Dockerfile and .dockerignore stay)."""
    from pyengine.build.ignore import IgnoreMatcher

    matcher = IgnoreMatcher.parse(text)
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root)
        rel_top = "" if rel_top == "." else rel_top
        for name in list(dirs):
            rel = f"{rel_top}/{name}" if rel_top else name
            holds_kept = any(path.startswith(rel + "/") for path in keep)  # -f sub/Dockerfile
            if matcher.excluded(rel, is_dir=True) and not matcher.may_include_under(rel) \
                    and not holds_kept:
                dirs.remove(name)
                shutil.rmtree(os.path.join(top, name), ignore_errors=True)
        for name in files:
            rel = f"{rel_top}/{name}" if rel_top else name
            if rel not in keep and matcher.excluded(rel):
                os.unlink(os.path.join(top, name))


def _drop_devices(root: Path) -> None:
    for top, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(top, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                os.unlink(path)
