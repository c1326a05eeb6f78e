"""Printing a container's log stream: stdout to stdout, stderr to stderr, optionally stamped."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import BinaryIO

    from pyengine.api import containers_lean, containers_pb2


def write(entries: Iterable[containers_pb2.LogEntry] | Iterable[containers_lean.LogEntry],
          timestamps: bool = False, out: BinaryIO | None = None,
          err: BinaryIO | None = None) -> None:
    if timestamps:
        from pyengine.containers.logs import rfc3339_nano

    out = out or sys.stdout.buffer
    err = err or sys.stderr.buffer
    for entry in entries:
        target = err if entry.stream == "stderr" else out
        if timestamps:
            target.write(rfc3339_nano(entry.time_nano).encode() + b" ")
        target.write(entry.data)
        target.flush()
