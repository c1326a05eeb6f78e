"""The shim's OOM watch: which memory cgroup a process is in (v1, v2, hybrid), and cgroup v2's
memory.events watched with inotify (run on a directory of our own: the kernel's inotify works on
any file, so the v2 path is exercised on a v1 host too)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from pyengine.shim.oom import OomWatcher, memory_cgroup_of

EVENTS = "low 0\nhigh {high}\nmax 0\noom {oom}\noom_kill {kills}\n"


def test_v1_memory_cgroup(tmp_path: Path) -> None:
    (tmp_path / "v1" / "pyengine" / "c1").mkdir(parents=True)
    text = "12:pids:/pyengine/c1\n4:memory:/pyengine/c1\n0::/\n"
    assert memory_cgroup_of(text, str(tmp_path / "v1"), str(tmp_path / "v2")) == (
        str(tmp_path / "v1" / "pyengine" / "c1"), 1)


def test_v2_memory_cgroup_needs_memory_events(tmp_path: Path) -> None:
    group = tmp_path / "v2" / "pyengine" / "c1"
    group.mkdir(parents=True)
    text = "0::/pyengine/c1\n"
    assert memory_cgroup_of(text, str(tmp_path / "v1"), str(tmp_path / "v2")) is None
    (group / "memory.events").write_text(EVENTS.format(high=0, oom=0, kills=0))
    assert memory_cgroup_of(text, str(tmp_path / "v1"), str(tmp_path / "v2")) == (str(group), 2)


def test_hybrid_host_uses_the_v1_memory_controller(tmp_path: Path) -> None:
    (tmp_path / "v1" / "c1").mkdir(parents=True)
    (tmp_path / "v2" / "c1").mkdir(parents=True)
    (tmp_path / "v2" / "c1" / "memory.events").write_text("")
    text = "0::/c1\n5:memory:/c1\n"
    assert memory_cgroup_of(text, str(tmp_path / "v1"), str(tmp_path / "v2")) == (
        str(tmp_path / "v1" / "c1"), 1)


def test_no_memory_cgroup(tmp_path: Path) -> None:
    assert memory_cgroup_of("3:pids:/x\n", str(tmp_path), str(tmp_path)) is None
    assert memory_cgroup_of("garbage\n", str(tmp_path), str(tmp_path)) is None


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


def test_v2_oom_kill_increase_is_reported_once_per_increase(tmp_path: Path) -> None:
    events = tmp_path / "memory.events"
    events.write_text(EVENTS.format(high=0, oom=0, kills=0))
    seen: list[str] = []

    async def scenario() -> None:
        watcher = OomWatcher(seen.append)
        watcher.watch_v2("c1", str(tmp_path))
        events.write_text(EVENTS.format(high=3, oom=0, kills=0))  # pressure, no kill
        await _settle()
        assert seen == []
        events.write_text(EVENTS.format(high=3, oom=1, kills=1))
        await _settle()
        assert seen == ["c1"]
        events.write_text(EVENTS.format(high=4, oom=1, kills=1))  # no new kill
        await _settle()
        assert seen == ["c1"]
        events.write_text(EVENTS.format(high=4, oom=3, kills=3))
        await _settle()
        assert seen == ["c1", "c1"]
        watcher.unwatch("c1")
        assert watcher._watches == {}

    asyncio.run(scenario())


def test_v2_watch_ends_when_the_cgroup_goes(tmp_path: Path) -> None:
    group = tmp_path / "c1"
    group.mkdir()
    (group / "memory.events").write_text(EVENTS.format(high=0, oom=0, kills=0))
    seen: list[str] = []

    async def scenario() -> None:
        watcher = OomWatcher(seen.append)
        watcher.watch_v2("c1", str(group))
        assert "c1" in watcher._watches
        shutil.rmtree(group)
        await _settle()
        assert watcher._watches == {}
        assert seen == []

    asyncio.run(scenario())


def test_v2_watch_of_a_missing_cgroup_is_none(tmp_path: Path) -> None:
    async def scenario() -> None:
        watcher = OomWatcher(lambda cid: None)
        watcher.watch_v2("c1", str(tmp_path / "gone"))
        assert watcher._watches == {}

    asyncio.run(scenario())
