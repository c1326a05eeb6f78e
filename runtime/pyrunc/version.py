"""The commit pyrunc runs from, read from the checkout's .git (only for --version)."""

from __future__ import annotations

import os


def commit() -> str:
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    git = os.path.join(top, ".git")
    try:
        with open(os.path.join(git, "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            try:
                with open(os.path.join(git, ref)) as f:
                    return f.read().strip()
            except FileNotFoundError:
                with open(os.path.join(git, "packed-refs")) as f:
                    for line in f:
                        if line.rstrip().endswith(" " + ref):
                            return line.split()[0]
        return head
    except OSError:
        pass
    return "unknown"
