"""The concurrency model's pieces without a daemon: the worker pool keeps room for short calls
while long jobs run, the event bus filters and cuts off a subscriber that falls behind, progress
streams end when their job does or when cancelled, and SQLite refuses to run on the loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from pyengine import errors, events
from pyengine.progress import Cancelled, ProgressChannel
from pyengine.services.jobs import Jobs
from pyengine.services.workers import Workers
from pyengine.store import Database

GUARD = 60.0  # hang guard for waits, not a timed assertion


def test_long_jobs_leave_workers_for_short_calls() -> None:
    async def scenario() -> None:
        workers = Workers(size=3, long_slots=2)
        release = threading.Event()
        started: list[int] = []

        def long_job(n: int) -> int:
            started.append(n)
            release.wait(GUARD)
            return n

        jobs = [asyncio.ensure_future(workers.run_long(long_job, n)) for n in range(3)]
        while len(started) < 2:
            await asyncio.sleep(0.01)
        # both long slots are taken; the third long job waits on the loop, not in a thread,
        # and a short call still gets a worker
        assert await asyncio.wait_for(workers.run(lambda: "short"), GUARD) == "short"
        assert sorted(started) == [0, 1]
        release.set()
        assert sorted(await asyncio.gather(*jobs)) == [0, 1, 2]
        workers.shutdown()

    asyncio.run(scenario())


def test_event_bus_filters_and_cuts_off_a_lagging_subscriber(monkeypatch) -> None:
    monkeypatch.setattr(events, "BACKLOG", 3)

    async def scenario() -> None:
        bus = events.EventBus()
        bus.bind(asyncio.get_running_loop())
        tags = bus.subscribe(events.parse_filters(["type=image", "event=tag", "event=untag"]))
        slow = bus.subscribe()
        published = threading.Thread(target=lambda: [
            bus.publish("image", action, "sha256:1", name="x:1")
            for action in ("pull", "tag", "delete", "untag", "load")])
        published.start()
        published.join()
        received = []
        async for event in tags:
            received.append(event.action)
            if len(received) == 2:
                break
        assert received == ["tag", "untag"]
        with pytest.raises(errors.ResourceExhausted, match="fell more than 3 events behind"):
            async for _ in slow:
                pass
        tags.close()
        assert bus.subscriber_count() == 0
        ended = bus.subscribe()
        bus.close()
        assert [e async for e in ended] == []

    asyncio.run(scenario())
    with pytest.raises(errors.InvalidArgument, match="unknown filter key"):
        events.parse_filters(["colour=red"])


def test_progress_stream_yields_reports_and_reraises() -> None:
    async def scenario() -> None:
        workers = Workers(size=2, long_slots=1)
        jobs = Jobs()

        def job(channel: ProgressChannel) -> None:
            channel.report("l1", "Downloading", 1, 2)
            channel.finish("done")
            raise errors.NotFound("no such thing")

        channel = jobs.open()
        seen = []
        with pytest.raises(errors.NotFound):
            async for report in channel.stream(workers, job):
                seen.append((report.id, report.status, report.result))
        assert seen == [("l1", "Downloading", ""), ("", "", "done")]
        jobs.close(channel)
        workers.shutdown()

    asyncio.run(scenario())


def test_cancel_all_stops_a_reader_at_once_and_the_job_at_its_next_report() -> None:
    async def scenario() -> None:
        workers = Workers(size=2, long_slots=1)
        jobs = Jobs()
        blocked, unblock = threading.Event(), threading.Event()
        outcome: list[str] = []

        def job(channel: ProgressChannel) -> None:
            channel.report("", "started")
            blocked.set()
            unblock.wait(GUARD)  # a transfer stuck on the network
            try:
                channel.report("", "never seen")
            except Cancelled:
                outcome.append("job cancelled")
                raise

        channel = jobs.open()
        stream = channel.stream(workers, job)
        assert (await stream.__anext__()).status == "started"
        await asyncio.get_running_loop().run_in_executor(None, blocked.wait, GUARD)
        jobs.cancel_all()
        with pytest.raises(Cancelled):
            await stream.__anext__()
        unblock.set()
        while not outcome:
            await asyncio.sleep(0.01)
        assert outcome == ["job cancelled"]
        workers.shutdown()

    asyncio.run(scenario())


def test_sqlite_is_never_called_on_the_loop(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")

    async def scenario() -> None:
        with pytest.raises(errors.EngineError, match="called on the event loop"):
            db.query("SELECT 1")
        assert await asyncio.to_thread(db.query, "SELECT 1") == [(1,)]

    asyncio.run(scenario())
