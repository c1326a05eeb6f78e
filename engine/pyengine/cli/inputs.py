"""Stream helpers several pyctl verbs share: archive files or stdin in chunks, archives
written to a file or stdout, platforms."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from pyengine.api import common_pb2
from pyengine.cli.context import CliError

CHUNK = 1 << 20


def platform(text: str) -> common_pb2.Platform:
    if not text:
        return common_pb2.Platform()
    parts = text.split("/")
    return common_pb2.Platform(
        os=parts[0], architecture=parts[1] if len(parts) > 1 else "",
        variant=parts[2] if len(parts) > 2 else "",
    )


def read_chunks(path: str) -> Iterator[bytes]:
    handle = sys.stdin.buffer if path in ("", "-") else open(path, "rb")  # noqa: SIM115
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def open_input(path: str) -> None:
    if path not in ("", "-"):
        try:
            open(path, "rb").close()
        except OSError as err:
            raise CliError(f"open {path}: {err.strerror}") from err


def check_output_path(path: str, what: str) -> None:
    """Docker's check before it asks the daemon: the directory `path` goes into must exist
    (docker: `failed to export container: invalid output path: stat DIR: no such file or
    directory`, exit 1, no "Error:" prefix)."""
    if path in ("", "-"):
        return
    import os

    directory = os.path.dirname(os.path.normpath(path))
    if directory:
        try:
            os.stat(directory)
        except OSError as err:
            raise CliError(f"failed to {what}: invalid output path: stat {directory}: "
                           f"{err.strerror.lower() if err.strerror else err}",
                           prefix="") from err


def write_chunks(chunks: Iterable[bytes], path: str) -> None:
    """Write `chunks` to stdout ("" or "-"), or to `path` (replaced only once complete)."""
    if path in ("", "-"):
        stdout = sys.stdout.buffer
        for chunk in chunks:
            stdout.write(chunk)
        stdout.flush()
        return
    import os

    tmp = path + ".pyctl-tmp"
    try:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
