"""Rendering pull/push progress: docker's per-layer lines, redrawn in place on a terminal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from pyengine.units import progress_bar as bar

if TYPE_CHECKING:
    from pyengine.api import common_pb2

BYTE_STATUSES = ("Downloading", "Extracting", "Pushing")


class ProgressView:
    """Feeds on Progress messages; tty mode redraws per-layer lines, plain mode appends."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self.lines: list[str] = []  # ids in display order (tty mode)
        self.last: dict[str, str] = {}

    def update(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        if not id:
            self.out.write(status + "\n")
            self.out.flush()
            if self.tty:
                self.lines = []  # later messages are written below the block
            return
        if self.tty:
            text = f"{id}: {status}"
            if status in BYTE_STATUSES:
                text += " " + bar(current, total)
            self._draw(id, text)
            return
        if status in BYTE_STATUSES:
            return  # byte counters only make sense on a terminal
        if self.last.get(id) == status:
            return
        self.last[id] = status
        self.out.write(f"{id}: {status}\n")
        self.out.flush()

    def _draw(self, id: str, text: str) -> None:
        if id not in self.lines:
            self.lines.append(id)
            self.out.write(f"{text}\n")
        else:
            up = len(self.lines) - self.lines.index(id)
            self.out.write(f"\x1b[{up}A\x1b[2K\r{text}\x1b[{up}B\r")
        self.out.flush()


def follow(stream: Iterable[common_pb2.Progress], out: TextIO, quiet: bool) -> str:
    """Show a pull's or push's progress stream (unless quiet); return its final result."""
    view = ProgressView(out, out.isatty())
    result = ""
    for msg in stream:
        if msg.result:
            result = msg.result
            continue
        if not quiet:
            view.update(msg.id, msg.status, msg.current, msg.total)
    return result
