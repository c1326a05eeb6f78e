"""ContainerService's lifecycle verbs run together on one container: each change of the
record is made to the record as it is then (not to one read before an await), and starts of a
container run one at a time. The service is real, over a real metadata database; its shim,
networking, volumes and snapshotter are stand-ins, so each interleaving is forced by holding
one step, not by timing."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pyengine.containers import shims
from pyengine.containers.model import CREATED, EXITED, RUNNING, Container, Spec, State
from pyengine.containers.service import ContainerService
from pyengine.store import Database
from pyengine.store.records import now_rfc3339

CID = "c" * 64
PID = 4242
DEADLINE = 10.0  # seconds: a test that would hang fails instead


class FakeShim:
    """A task that runs until killed, or until the test ends it (`exit_with`)."""

    def __init__(self, cid: str, address: str) -> None:
        self.id, self.address = cid, address
        self.client = SimpleNamespace(closed=False)
        self.exited = asyncio.Event()
        self.status = 0
        self.shut_down = False

    def exit_with(self, status: int) -> None:
        self.status = status
        self.exited.set()

    async def pid(self) -> int:
        return 1000

    async def create(self, *args: object) -> int:
        return PID

    async def start(self) -> int:
        return PID

    async def wait(self) -> tuple[int, int]:
        await self.exited.wait()
        return self.status, time.time_ns()

    async def kill(self, signal: int, all_processes: bool = False) -> None:
        self.exit_with(128 + signal)

    async def delete(self) -> None:
        pass

    async def shutdown(self) -> None:
        self.shut_down = True

    async def close(self) -> None:
        pass


class FakeNetworking:
    """Networking that does nothing; its detach (a clean-up of on_exit, between its read of
    the record and its save) can be held."""

    def __init__(self) -> None:
        self.hold_detach: asyncio.Event | None = None
        self.detaching = asyncio.Event()

    async def prepare(self, c: Container) -> None:
        pass

    async def attach(self, c: Container, pid: int) -> None:
        pass

    async def detach(self, cid: str) -> None:
        self.detaching.set()
        if self.hold_detach is not None:
            await self.hold_detach.wait()

    def unregister(self, cid: str) -> None:
        pass


class Nothing:
    """Volumes, snapshotter, events, collector: every call answers nothing."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return lambda *args, **kwargs: [] if name == "mounts" else None


class Harness:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        config = SimpleNamespace(exec_root=tmp_path / "exec", data_root=tmp_path / "data",
                                 shim_binary="fake-shim")
        self.service = ContainerService(
            cast(Any, config), Database(tmp_path / "meta.db"), cast(Any, None),
            cast(Any, Nothing()), cast(Any, Nothing()), cast(Any, Nothing()),
            cast(Any, Nothing()), networks=cast(Any, None))
        self.networking = FakeNetworking()
        self.service.networking = cast(Any, self.networking)
        self.shims: list[FakeShim] = []
        self.launches = 0
        self.hold_launch: asyncio.Event | None = None
        self.launching = asyncio.Event()
        monkeypatch.setattr(shims, "launch", self._launch)
        monkeypatch.setattr(shims.Shim, "connect", self._connect)

    async def _launch(self, binary: str, cid: str, bundle: Path, events: str) -> str:
        self.launches += 1
        self.launching.set()
        # the shim's writer of its log fifo comes and goes (the drain of it then ends)
        os.close(os.open(bundle / "log", os.O_WRONLY | os.O_NONBLOCK))
        if self.hold_launch is not None:
            await self.hold_launch.wait()
        return str(bundle / f"shim-{self.launches}.sock")

    async def _connect(self, cid: str, address: str) -> FakeShim:
        shim = FakeShim(cid, address)
        self.shims.append(shim)
        return shim

    async def create(self, restart: str = "no", auto_remove: bool = False) -> None:
        s = self.service
        for directory in (s.bundles / CID, s.log_root / CID):
            directory.mkdir(parents=True)
        c = Container(id=CID, name="racer", image_id="sha256:" + "0" * 64,
                      image_name="busybox", snapshot=CID, created=now_rfc3339(),
                      spec=Spec(image="busybox", restart=restart, auto_remove=auto_remove),
                      state=State(status=CREATED), runtime="runc")
        await asyncio.to_thread(s.repo.add, c)

    async def record(self) -> Container:
        return await asyncio.to_thread(self.service.repo.get, CID)

    async def exit_seen(self) -> None:
        """The container's exit handled through to its record and restart decision."""
        waiter = self.service._live[CID].waiter
        assert waiter is not None
        await waiter

    async def remove(self) -> None:
        """What the test made goes; nothing is left in the service for the container."""
        live = self.service._live.get(CID)
        if live is not None and live.restarting is not None:
            live.restarting.cancel()
        await self.service.remove(CID, force=True)
        assert CID not in self.service._live


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        try:
            await asyncio.wait_for(body(), DEADLINE)
        finally:
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

    asyncio.run(bounded())


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield Harness(tmp_path, monkeypatch)


def test_a_stop_during_the_exit_handlers_clean_ups_is_kept(harness: Harness) -> None:
    """stop lands between on_exit's read of the record and its save: the container stays
    stopped by hand and exited; the restart policy does not start it again."""

    async def body() -> None:
        await harness.create(restart="always")
        await harness.service.start(CID)
        harness.networking.hold_detach = asyncio.Event()
        harness.shims[-1].exit_with(0)  # the process ends by itself
        await harness.networking.detaching.wait()  # on_exit read the record, cleans up
        stopping = asyncio.create_task(harness.service.stop(CID))
        while not (await harness.record()).state.manually_stopped:  # stop's mark
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not stopping.done()  # it returns once the exit is recorded
        harness.networking.hold_detach.set()
        await stopping
        await harness.exit_seen()
        state = (await harness.record()).state
        assert (state.status, state.manually_stopped, state.restarting) == \
            (EXITED, True, False)
        assert harness.service._live[CID].restarting is None  # no restart scheduled
        await harness.remove()

    run(body)


def test_a_stop_that_read_the_record_before_the_exit_keeps_the_exit(
        harness: Harness) -> None:
    """stop reads the record while it is RUNNING, the exit is recorded, then stop marks the
    container: its mark goes on the exited record, not on the running one it read."""
    read = threading.Event()
    go_on = threading.Event()

    async def body() -> None:
        await harness.create()
        await harness.service.start(CID)
        get = harness.service.get

        def read_then_wait(ref: str) -> Container:
            c = get(ref)
            read.set()
            go_on.wait(DEADLINE)
            return c

        harness.service.get = read_then_wait  # type: ignore[method-assign]
        stopping = asyncio.create_task(harness.service.stop(CID))
        assert await asyncio.to_thread(read.wait, DEADLINE)
        harness.service.get = get  # type: ignore[method-assign]
        harness.shims[-1].exit_with(0)
        await harness.exit_seen()
        go_on.set()
        await stopping
        state = (await harness.record()).state
        assert (state.status, state.pid, state.manually_stopped) == (EXITED, 0, True)
        await harness.remove()

    try:
        run(body)
    finally:
        go_on.set()  # never leave a worker thread waiting


def test_two_starts_at_once_launch_one_shim(harness: Harness) -> None:
    async def body() -> None:
        await harness.create()
        harness.hold_launch = asyncio.Event()
        get = harness.service.get
        looked_up = 0

        def counted(ref: str) -> Container:
            nonlocal looked_up
            c = get(ref)
            looked_up += 1
            return c

        harness.service.get = counted  # type: ignore[method-assign]
        first = asyncio.create_task(harness.service.start(CID))
        second = asyncio.create_task(harness.service.start(CID))
        await harness.launching.wait()
        while looked_up < 2:  # both starts past their lookup: on the loop from there on
            await asyncio.sleep(0.001)
        for _ in range(50):  # as far as the second start goes without the first's record
            await asyncio.sleep(0)
        harness.hold_launch.set()
        started = await asyncio.gather(first, second)
        assert harness.launches == 1
        assert [c.state.status for c in started] == [RUNNING, RUNNING]
        assert (await harness.record()).state.pid == PID
        await harness.remove()
        assert all(shim.shut_down for shim in harness.shims)

    run(body)


def test_a_forced_remove_during_a_start_ends_the_started_container(
        harness: Harness) -> None:
    """rm -f while a start is launching the shim: the start finishes, then the removal kills
    it; no shim is left running for a container that is gone."""

    async def body() -> None:
        await harness.create()
        harness.hold_launch = asyncio.Event()
        starting = asyncio.create_task(harness.service.start(CID))
        await harness.launching.wait()
        removing = asyncio.create_task(harness.service.remove(CID, force=True))
        for _ in range(50):
            await asyncio.sleep(0)
        harness.hold_launch.set()
        await asyncio.gather(starting, removing, return_exceptions=True)
        assert [shim.shut_down for shim in harness.shims] == [True]
        assert CID not in harness.service._live
        assert CID not in (await asyncio.to_thread(harness.service.repo.names)).values()

    run(body)


def test_a_start_or_restart_while_the_exit_is_recorded_leaves_it_running(
        harness: Harness) -> None:
    """The process ended and on_exit is cleaning up (the record still says RUNNING): a start
    waits for the exit's record and starts it again; so does `docker restart`."""

    async def body() -> None:
        await harness.create()
        for verb in ("start", "restart"):
            await harness.service.start(CID)
            harness.networking.hold_detach = asyncio.Event()
            harness.networking.detaching.clear()
            harness.shims[-1].exit_with(0)
            await harness.networking.detaching.wait()
            again = asyncio.create_task(getattr(harness.service, verb)(CID))
            await asyncio.sleep(0.05)
            assert not again.done()  # it waits for the exit being recorded
            harness.networking.hold_detach.set()
            await again
            assert (await harness.record()).state.status == RUNNING, verb
            harness.networking.hold_detach = None
            await harness.service.stop(CID, timeout=0)
        assert harness.launches == 4
        await harness.remove()

    run(body)


def test_prune_skips_a_container_that_started_meanwhile(harness: Harness,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """prune picked the stopped container, a start took it first: prune goes on without it
    (dockerd's), it does not fail."""
    from pyengine.containers import sizes

    monkeypatch.setattr(sizes, "writable_size", lambda upper: 0)

    async def body() -> None:
        await harness.create()
        harness.hold_launch = asyncio.Event()
        starting = asyncio.create_task(harness.service.start(CID))
        await harness.launching.wait()
        pruning = asyncio.create_task(harness.service.prune())
        for _ in range(50):
            await asyncio.sleep(0)
        harness.hold_launch.set()
        await starting
        assert await pruning == ([], 0)
        assert (await harness.record()).state.status == RUNNING
        await harness.remove()

    run(body)


def test_a_start_queued_behind_a_failed_rm_start_finds_it_marked(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A --rm container whose start failed is removed; a start that waited for the first
    one's lock is refused (marked for removal), it does not start it for the removal to kill."""
    from pyengine.errors import FailedPrecondition

    async def body() -> None:
        await harness.create(auto_remove=True)
        calls = []

        async def fail_first(c: Container, pid: int) -> None:
            calls.append(pid)
            if len(calls) == 1:
                raise FailedPrecondition("exec: no such file")

        monkeypatch.setattr(harness.networking, "attach", fail_first)
        first = asyncio.create_task(harness.service.start(CID))
        second = asyncio.create_task(harness.service.start(CID))
        results = await asyncio.gather(first, second, return_exceptions=True)
        assert [type(r).__name__ for r in results] == ["FailedPrecondition"] * 2
        texts = sorted(str(r) for r in results)  # whichever took the lock first failed
        assert texts[1] == "exec: no such file"
        assert "marked for removal" in texts[0] or "No such container" in texts[0]
        assert harness.launches == 1
        assert CID not in harness.service._live

    run(body)


def test_a_late_exit_of_an_earlier_run_and_a_failed_record_block_no_one(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exit event about another pid is ignored without marking the run exiting (its own
    exit is still handled); an exit whose record fails still wakes stop and rm."""
    from pyengine.errors import DataLoss

    async def body() -> None:
        await harness.create()
        await harness.service.start(CID)
        await harness.service.on_exit(CID, 1, time.time_ns(), pid=PID + 1)
        live = harness.service._live[CID]
        assert not live.exiting and not live.exited.is_set()
        real = harness.service._update_state

        async def failing(cid: str, change: Callable[[Container], bool]) -> Container:
            if getattr(change, "__name__", "") == "exited":
                raise DataLoss("disk gone")
            return await real(cid, change)

        monkeypatch.setattr(harness.service, "_update_state", failing)
        with pytest.raises(DataLoss):
            await harness.service.on_exit(CID, 0, time.time_ns(), pid=PID)
        assert live.exited.is_set()  # stop, rm and a start do not wait for ever
        monkeypatch.setattr(harness.service, "_update_state", real)
        await harness.remove()

    run(body)


def test_update_rewrites_the_bundle_only_between_starts(harness: Harness) -> None:
    """docker update rewrites config.json; a start writes it too (a user resolved at start,
    late_user.py): the update waits for the start's lock, so neither write is lost."""
    import json

    from pyengine.containers import ops, resources

    async def body() -> None:
        await harness.create()
        config = harness.service.bundles / CID / "config.json"
        config.write_text(json.dumps({"process": {"user": {"uid": 1000, "gid": 1000}},
                                      "linux": {"resources": {}}}))
        lock = harness.service.start_lock(CID)
        await lock.acquire()  # a start is writing the bundle
        updating = asyncio.create_task(ops.update(
            harness.service, CID, resources.ResourceUpdate(memory=64 << 20)))
        await asyncio.sleep(0.1)
        assert not updating.done()
        assert "memory" not in config.read_text()
        lock.release()
        await updating
        written = json.loads(config.read_text())
        assert written["process"]["user"]["uid"] == 1000  # the start's write kept
        assert written["linux"]["resources"]["memory"]["limit"] == 64 << 20
        await harness.remove()

    run(body)


def test_a_copy_of_a_stopped_container_keeps_a_start_out(harness: Harness) -> None:
    """docker cp / export of a container that does not run mount its overlay for the copy: a
    start meanwhile (which mounts the same upper directory) waits for the copy to end, as
    dockerd's container lock makes it."""

    async def body() -> None:
        await harness.create()
        c = await harness.record()
        copying = asyncio.Event()
        copied = asyncio.Event()

        async def copy() -> None:
            async with harness.service.files.copying(c):
                copying.set()
                await copied.wait()

        copy_task = asyncio.create_task(copy())
        await copying.wait()
        starting = asyncio.create_task(harness.service.start(CID))
        await asyncio.sleep(0.1)
        assert harness.launches == 0 and not starting.done()
        copied.set()
        await copy_task
        await starting
        assert harness.launches == 1
        await harness.remove()

    run(body)


def test_an_exit_the_database_refuses_for_a_while_is_recorded(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk (or an I/O error) refusing the exit's record is asked again: the container
    ends EXITED rather than RUNNING until rm -f or a daemon restart. One that still refuses
    after the retries fails the record, and wakes everyone all the same; a locked database
    (SQLite waited 30 s already) is not asked again."""
    from pyengine.containers import service as service_module
    from pyengine.errors import ResourceExhausted, Unavailable

    monkeypatch.setattr(service_module, "EXIT_RECORD_RETRIES", (0.01, 0.01))
    real = harness.service._update_state
    refusals: dict[str, Any] = {"left": 2, "error": ResourceExhausted}

    async def busy(cid: str, change: Callable[[Container], bool]) -> Container:
        if getattr(change, "__name__", "") == "exited" and refusals["left"] > 0:
            refusals["left"] -= 1
            raise refusals["error"]("metadata write in meta.db: refused")
        return await real(cid, change)

    async def body() -> None:
        await harness.create()
        await harness.service.start(CID)
        monkeypatch.setattr(harness.service, "_update_state", busy)
        harness.shims[-1].exit_with(3)
        await harness.exit_seen()
        state = (await harness.record()).state
        assert (state.status, state.exit_code, refusals["left"]) == (EXITED, 3, 0)

        await harness.service.start(CID)  # again, now refused once more than retried
        refusals["left"] = 3
        live = harness.service._live[CID]
        with pytest.raises(ResourceExhausted):
            await harness.service.on_exit(CID, 0, time.time_ns(), pid=PID)
        assert live.exited.is_set()  # stop, rm and a start do not wait for ever
        assert (await harness.record()).state.status == RUNNING

        def exited(c: Container) -> bool:  # (the stand-in refuses changes of this name)
            return False

        refusals.update(left=2, error=Unavailable)  # locked: asked once
        with pytest.raises(Unavailable):
            await harness.service._save_exit(CID, exited)
        assert refusals["left"] == 1
        monkeypatch.setattr(harness.service, "_update_state", real)
        await harness.remove()

    run(body)
