"""A layer's size as docker reports it (docker images, history, system df): the apparent sizes
of the files in the layer's own directory, each inode once, directories and empty files not
counted (dockerd's graph driver DiffSize). Not the length of the layer's tar, whose 512-byte
headers and padding would count too."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def diff_size(root: Path) -> int:
    """The size of the files under `root` (not following symlinks: a symlink counts its
    target's length, as lstat gives it)."""
    seen: set[int] = set()
    total = 0
    pending = [str(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    pending.append(entry.path)
                elif st.st_size and st.st_ino not in seen:
                    seen.add(st.st_ino)
                    total += st.st_size
    return total
