"""The size docker gives a container's writable layer (SizeRw, prune's reclaimed space): the
apparent sizes of everything but directories in the layer's own directory, each inode once."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def layer_size(top: Path) -> int:
    """Sum of st_size of the files, links and devices below `top`; 0 when it is gone."""
    total = 0
    seen: set[tuple[int, int]] = set()
    pending = [str(top)]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                pending.append(entry.path)
            elif (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total
