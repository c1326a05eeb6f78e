"""Copies of fifos into logs. An exec's copy (logs.copy_fifo) holds nothing between reads.
A container's log copy (logcopy.copy_to_log) takes nothing from the fifo before it is stored
and recognises, at the next start, a chunk a killed daemon stored but had not consumed."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
from pyengine.containers import logcopy, logs


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


def _pipe() -> tuple[int, int]:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    return read_end, write_end


def _copy(read_end: int, path: Path, reconnect: bool = True, max_size: int = 0
          ) -> list[bytes]:
    log = logs.JsonFileLog(path, max_size=max_size, max_file=3)
    asyncio.run(logcopy.copy_to_log(read_end, "stdout", log, path.with_name("inflight"),
                                    reconnect))
    log.close()
    return [e.data for e in logs.read(log.files())]


def test_copy_to_log_consumes_only_what_it_stored(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"

    async def scenario() -> None:
        log = logs.JsonFileLog(path)
        read_end, write_end = _pipe()
        copy = asyncio.create_task(logcopy.copy_to_log(read_end, "stdout", log,
                                                       tmp_path / "inflight"))
        os.write(write_end, b"one\ntw")
        for _ in range(50):  # loop turns: the pipe is readable at once
            await asyncio.sleep(0)
        assert [e.data for e in logs.read([path])] == [b"one\n"]
        os.write(write_end, b"o\n")  # the line's end comes within LINE_WAIT: one entry
        os.write(write_end, b"three")
        os.close(write_end)
        await copy
        log.close()

    asyncio.run(scenario())
    assert [e.data for e in logs.read([path])] == [b"one\n", b"two\n", b"three"]


def _stored_in_flight(path: Path, chunk: bytes) -> None:
    """What a daemon killed between storing `chunk` and consuming it leaves: the entries in
    the log and the in-flight record."""
    log = logs.JsonFileLog(path)
    inflight = logcopy.Inflight(path.with_name("inflight"))
    log.write_many([logs.Entry("stdout", piece, 1) for piece in logs.split_lines(chunk)],
                   lambda inode, size: inflight.record(inode, size, chunk))
    inflight.close()
    log.close()


def _fifo_holding(data: bytes) -> int:
    read_end, write_end = _pipe()
    os.write(write_end, data)
    os.close(write_end)
    return read_end


def test_a_chunk_stored_but_not_consumed_before_a_kill_is_not_stored_twice(
        tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    _stored_in_flight(path, b"a\nb\n")
    fifo = _fifo_holding(b"a\nb\nc\n")  # the stored chunk is still the fifo's head
    assert _copy(fifo, path) == [b"a\n", b"b\n", b"c\n"]


def test_a_chunk_consumed_before_a_kill_is_not_consumed_again(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    _stored_in_flight(path, b"a\n")
    fifo = _fifo_holding(b"b\n")  # the fifo's head is the next output, not the stored chunk
    assert _copy(fifo, path) == [b"a\n", b"b\n"]


def test_a_new_run_ignores_the_record_of_an_earlier_one(tmp_path: Path) -> None:
    """A restarted container prints the same again: its fresh fifo is never settled."""
    path = tmp_path / "c-json.log"
    _stored_in_flight(path, b"run\n")
    fifo = _fifo_holding(b"run\n")
    assert _copy(fifo, path, reconnect=False) == [b"run\n", b"run\n"]


def test_rotation_falls_between_writes(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    one = len(logs.encode(logs.Entry("stdout", b"line 00\n", 1)))
    fifo = _fifo_holding(b"".join(b"line %02d\n" % n for n in range(9)))
    stored = _copy(fifo, path, max_size=one * 3)
    assert stored == [b"line %02d\n" % n for n in range(9)]
    assert all(p.stat().st_size <= one * 3 for p in tmp_path.glob("c-json.log*"))


def test_a_copy_that_cannot_open_its_record_closes_the_fifo(tmp_path: Path) -> None:
    """The copy owns the fifo's descriptor: when its in-flight record cannot be made (the
    bundle is gone), the fifo is closed too, not left open in the daemon."""
    read_end, write_end = _pipe()
    log = logs.JsonFileLog(tmp_path / "log.json", max_size=0, max_file=1)
    try:
        with pytest.raises(FileNotFoundError):
            asyncio.run(logcopy.copy_to_log(read_end, "stdout", log,
                                            tmp_path / "gone" / "inflight"))
        with pytest.raises(OSError):
            os.fstat(read_end)
    finally:
        log.close()
        os.close(write_end)
        with contextlib.suppress(OSError):
            os.close(read_end)
