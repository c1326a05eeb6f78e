"""logs, off the loop and bounded: the stored entries are taken as open descriptors in the same
step as a follower subscribes (then read in the pool), so rotation meanwhile loses or doubles
nothing; a follower that lets too much wait is cut off instead of growing the daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pyengine.containers.logs import Entry, Follower, JsonFileLog, read, read_snapshot


def _entry(n: int, stream: str = "stdout") -> Entry:
    return Entry(stream, b"line %d\n" % n, 1_000_000_000 + n)


def test_a_snapshot_reads_what_was_written_before_it_whatever_follows(tmp_path: Path) -> None:
    log = JsonFileLog(tmp_path / "c-json.log", max_size=400, max_file=3)
    for n in range(6):
        log.write(_entry(n))
    taken = log.snapshot()
    got: list[Entry] = []
    log.subscribers.append(lambda e: got.append(e) if e is not None else None)
    for n in range(6, 30):  # written after: rotates the files the snapshot holds open
        log.write(_entry(n))
    before = read_snapshot(taken)
    numbers = [int(e.data.split()[1]) for e in before + got]
    # every entry once, in order, even though rotation renamed or dropped files meanwhile
    assert numbers == list(range(numbers[0], 30))
    assert [int(e.data.split()[1]) for e in got] == list(range(6, 30))
    log.close()


def test_a_snapshot_selects_as_read_does(tmp_path: Path) -> None:
    log = JsonFileLog(tmp_path / "c-json.log")
    for n in range(10):
        log.write(_entry(n, "stderr" if n % 2 else "stdout"))
    assert read_snapshot(log.snapshot(), tail=3, since=1_000_000_002, until=1_000_000_008,
                         streams=("stdout",)) == \
        read(log.files(), tail=3, since=1_000_000_002, until=1_000_000_008, streams=("stdout",))
    assert [e.data for e in read_snapshot(log.snapshot(), tail=1)] == [b"line 9\n"]
    log.close()


def test_a_follower_that_falls_too_far_behind_is_cut_off() -> None:
    async def scenario() -> None:
        follower = Follower(backlog=100)
        for n in range(5):
            follower.put(Entry("stdout", b"x" * 30, n))  # 150 bytes waiting > 100
        got = []
        while (entry := await follower.get()) is not None:
            got.append(entry)
        assert len(got) == 3 and follower.overflowed
        follower.put(Entry("stdout", b"late", 9))  # nothing more once cut off
        assert follower.queue.empty()

    asyncio.run(scenario())


def test_a_follower_that_keeps_up_is_never_cut_off() -> None:
    async def scenario() -> None:
        follower = Follower(backlog=100)
        for n in range(50):
            follower.put(Entry("stdout", b"x" * 30, n))
            assert (await follower.get()) is not None
        follower.put(None)
        assert await follower.get() is None and not follower.overflowed

    asyncio.run(scenario())
