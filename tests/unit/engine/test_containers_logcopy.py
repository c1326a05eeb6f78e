"""The fifo copy into a container's json-file log holds nothing between reads: whole lines
become entries and a chunk ending inside a line writes that line's start at once (a partial
entry, docker's json-file form), so a daemon killed at any point loses nothing it has read."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pyengine.containers import logs


def test_split_lines_keeps_newlines_and_cuts_long_lines() -> None:
    assert logs.split_lines(b"a\nbc\nd") == [b"a\n", b"bc\n", b"d"]
    assert logs.split_lines(b"\n\n") == [b"\n", b"\n"]
    long = b"x" * (logs.MAX_LINE + 5) + b"\n"
    assert logs.split_lines(long) == [b"x" * logs.MAX_LINE, b"xxxxx\n"]
    assert b"".join(logs.split_lines(long * 3)) == long * 3


def test_copy_writes_each_chunk_before_reading_the_next(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"

    async def scenario() -> list[bytes]:
        log = logs.JsonFileLog(path)
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        copy = asyncio.create_task(logs.copy_fifo(read_end, "stdout", log))
        os.write(write_end, b"one\ntw")
        for _ in range(100):  # loop turns, not time: the pipe is readable at once
            await asyncio.sleep(0)
        # the line's start is in the file although its end has not come: nothing is held
        assert [e.data for e in logs.read([path])] == [b"one\n", b"tw"]
        os.write(write_end, b"o\nthree")
        os.close(write_end)
        await copy
        log.close()
        return [e.data for e in logs.read([path])]

    entries = asyncio.run(scenario())
    assert entries == [b"one\n", b"tw", b"o\n", b"three"]
    assert b"".join(entries) == b"one\ntwo\nthree"


def test_a_failed_write_drops_the_entry_and_is_reported_once(tmp_path: Path) -> None:
    log = logs.JsonFileLog(tmp_path / "gone" / "c-json.log")  # its directory is missing
    seen: list[logs.Entry | None] = []
    log.subscribers.append(seen.append)
    entry = logs.Entry("stdout", b"x\n", 1)
    log.write(entry)
    log.write(entry)
    assert log.dropped == 2
    assert log.error == f"write {tmp_path}/gone/c-json.log: no such file or directory"
    assert seen == [entry, entry]  # followers still see what could not be stored
    (tmp_path / "gone").mkdir()
    log.write(entry)
    log.close()
    assert (log.dropped, [e.data for e in logs.read(log.files())]) == (0, [b"x\n"])
