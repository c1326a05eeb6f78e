"""containers/fifo_reader.py: a fifo read on the event loop (asyncio's and uvloop's), its
descriptor closed once, by the reader; and no loop transport is handed a descriptor anywhere in
the daemon (uvloop's read-pipe transport closes one twice)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from pyengine.containers import fifo_reader

ENGINE = Path(__file__).resolve().parents[3] / "engine" / "pyengine"
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(kind: str, main: Coroutine[Any, Any, Any]) -> Any:
    loop = LOOPS[kind]()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


def fifo(tmp_path: Path) -> tuple[int, int]:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    return reader, writer


def closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


@pytest.mark.parametrize("kind", LOOPS)
def test_every_byte_until_the_writer_closes_then_the_fd_is_closed(tmp_path: Path,
                                                                  kind: str) -> None:
    reader, writer = fifo(tmp_path)
    payload = os.urandom(300_000)  # more than a pipe holds: the writer waits for the reader

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        left = memoryview(payload)

        def write() -> None:
            nonlocal left
            try:
                left = left[os.write(writer, left):]
            except BlockingIOError:
                return
            if not left:
                loop.remove_writer(writer)
                os.close(writer)

        loop.add_writer(writer, write)
        got = bytearray()
        async for chunk in fifo_reader.chunks(reader, 4096):
            got += chunk
        return bytes(got)

    assert run(kind, main()) == payload
    assert closed(reader)


@pytest.mark.parametrize("kind", LOOPS)
def test_a_consumer_that_stops_early_closes_it_and_nothing_else(tmp_path: Path,
                                                                kind: str) -> None:
    reader, writer = fifo(tmp_path)
    os.write(writer, b"one")

    async def main() -> int:
        async with contextlib.aclosing(fifo_reader.chunks(reader)) as reading:
            async for chunk in reading:
                assert chunk == b"one"
                break
        await asyncio.sleep(0)  # a loop turn: nothing closes late
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)  # likely reader's old number

    other = run(kind, main())
    try:
        assert closed(reader) or reader == other
        assert not closed(other)
    finally:
        os.close(other)
        os.close(writer)


def test_no_loop_transport_is_handed_a_descriptor_in_the_daemon() -> None:
    """connect_read_pipe / connect_write_pipe on the daemon's uvloop close the descriptor
    twice; the daemon reads and writes fifos with add_reader / add_writer instead (the shim
    and pyctl run on asyncio's own loop)."""
    offenders = []
    for path in ENGINE.rglob("*.py"):
        relative = path.relative_to(ENGINE).as_posix()
        if relative.startswith(("shim/", "cli/")):
            continue
        if re.search(r"connect_(read|write)_pipe\(", path.read_text()):
            offenders.append(relative)
    assert offenders == []


@pytest.mark.parametrize("kind", LOOPS)
def test_a_reader_started_before_any_writer_waits_for_one(tmp_path: Path, kind: str) -> None:
    """A shim opens its fifos' write ends after the daemon's reader started (and its open
    blocks until a reader is there): no writer yet is not the end."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    async def main() -> bytes:
        loop = asyncio.get_running_loop()

        def late_writer() -> None:
            writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            os.write(writer, b"late")
            os.close(writer)

        loop.call_later(0.05, late_writer)
        return b"".join([chunk async for chunk in fifo_reader.chunks(reader)])

    assert run(kind, main()) == b"late"
    assert closed(reader)
