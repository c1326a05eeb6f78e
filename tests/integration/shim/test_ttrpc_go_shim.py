"""Our ttrpc client drives containerd's Go shim (containerd-shim-runc-v2) through the Task
service, and our ttrpc server receives the events that shim forwards (its TTRPC_ADDRESS):
proof of both ends against a real peer, with containerd 1.6's own message types."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from google.protobuf import any_pb2, empty_pb2
from goshim import GoShim, write_bundle
from pyengine.shim.api import (
    TASK_SERVICE,
    events_pb2,
    runc_options_pb2,
    shim_pb2,
    task_events_pb2,
    task_pb2,
)
from pyengine.shim.ttrpc import errors
from pyengine.shim.ttrpc.client import Client
from pyengine.shim.ttrpc.server import Context, Server, unary

pytestmark = [pytest.mark.root]


class EventSink:
    """Our ttrpc server as containerd's events endpoint (Events/Forward)."""

    def __init__(self) -> None:
        self.envelopes: list[events_pb2.Envelope] = []
        self.changed = asyncio.Event()
        self.server = Server()
        self.server.register("containerd.services.events.ttrpc.v1.Events",
                             {"Forward": unary(events_pb2.ForwardRequest, self.forward)})

    async def forward(self, ctx: Context, req: events_pb2.ForwardRequest) -> empty_pb2.Empty:
        self.envelopes.append(req.envelope)
        self.changed.set()
        return empty_pb2.Empty()

    async def wait_for(self, topic: str) -> events_pb2.Envelope:
        while True:
            for env in self.envelopes:
                if env.topic == topic:
                    return env
            self.changed.clear()
            await self.changed.wait()


class FifoReader:
    """Fifos in `directory`, their read ends open (non-blocking) before the shim opens them."""

    def __init__(self, directory: Path, *names: str) -> None:
        self.directory = directory
        self.fds: dict[str, int] = {}
        for name in names:
            os.mkfifo(self.path(name))
            self.fds[name] = os.open(self.path(name), os.O_RDONLY | os.O_NONBLOCK)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.fifo"

    async def read_to_end(self, name: str) -> bytes:
        """Everything written until the shim closes its end (bounded by a generous deadline)."""
        data = b""
        async with asyncio.timeout(60):
            while True:
                try:
                    chunk = os.read(self.fds[name], 65536)
                except BlockingIOError:
                    await asyncio.sleep(0.02)
                    continue
                if not chunk:
                    return data
                data += chunk

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


@pytest.fixture
def shim(scratch: Path) -> Iterator[GoShim]:
    bundle = scratch / "bundle"
    bundle.mkdir()
    go = GoShim(bundle, events_address=str(scratch / "events.sock"))
    try:
        yield go
    finally:
        go.cleanup()
        print(f"containerd-shim-runc-v2 log:\n{go.log}")  # shown when the test fails


async def _call(client: Client, method: str, request, response_type, timeout: float = 60):
    return await client.unary(TASK_SERVICE, method, request, response_type, timeout=timeout)


@contextlib.asynccontextmanager
async def connected_shim(shim: GoShim) -> AsyncIterator[tuple[EventSink, Client]]:
    """Our events server listening, the Go shim started, our client connected to it."""
    sink = EventSink()
    await sink.server.listen(shim.events_address)
    try:
        shim.start()
        client = await Client.connect(shim.address)
        try:
            connected = await _call(client, "Connect", shim_pb2.ConnectRequest(id=shim.id),
                                    shim_pb2.ConnectResponse)
            assert connected.shim_pid > 0
            shim.pid = shim.pid or connected.shim_pid
            yield sink, client
        finally:
            await client.close()
    finally:
        await sink.server.close()


def test_go_shim_runs_a_task_to_its_exit_status(shim: GoShim) -> None:
    write_bundle(shim.bundle, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    # Fifos, as containerd's cio makes them: the shim copies each stream into its own.
    fifos = FifoReader(shim.bundle, "stdout", "stderr")

    async def scenario() -> None:
        async with connected_shim(shim) as (sink, client):
            created = await _call(client, "Create", shim_pb2.CreateTaskRequest(
                id=shim.id, bundle=str(shim.bundle), stdout=str(fifos.path("stdout")),
                stderr=str(fifos.path("stderr"))), shim_pb2.CreateTaskResponse)
            assert created.pid > 0
            state = await _call(client, "State", shim_pb2.StateRequest(id=shim.id),
                                shim_pb2.StateResponse)
            assert (state.status, state.pid, state.bundle) == (
                task_pb2.CREATED, created.pid, str(shim.bundle))
            # Wait is answered only when the task exits: it stays in flight on this
            # connection while Start goes through.
            waiting = asyncio.ensure_future(_call(
                client, "Wait", shim_pb2.WaitRequest(id=shim.id), shim_pb2.WaitResponse))
            started = await _call(client, "Start", shim_pb2.StartRequest(id=shim.id),
                                  shim_pb2.StartResponse)
            assert started.pid == created.pid
            waited = await waiting
            assert waited.exit_status == 3
            assert waited.exited_at.seconds > 0
            assert await fifos.read_to_end("stdout") == b"out\n"
            assert await fifos.read_to_end("stderr") == b"err\n"
            state = await _call(client, "State", shim_pb2.StateRequest(id=shim.id),
                                shim_pb2.StateResponse)
            assert (state.status, state.exit_status) == (task_pb2.STOPPED, 3)
            # An unknown exec id comes back as containerd's NotFound.
            with pytest.raises(errors.NotFound, match="does not exist"):
                await _call(client, "State",
                            shim_pb2.StateRequest(id=shim.id, exec_id="nope"),
                            shim_pb2.StateResponse)
            deleted = await _call(client, "Delete", shim_pb2.DeleteRequest(id=shim.id),
                                  shim_pb2.DeleteResponse)
            assert (deleted.pid, deleted.exit_status) == (created.pid, 3)
            exit_event = await asyncio.wait_for(sink.wait_for("/tasks/exit"), 60)
            await asyncio.wait_for(sink.wait_for("/tasks/delete"), 60)
            await _call(client, "Shutdown", shim_pb2.ShutdownRequest(id=shim.id),
                        empty_pb2.Empty)
            # The shim exits, removes its socket, and our client sees the connection end.
            async with asyncio.timeout(60):
                while shim.alive() or os.path.exists(shim.address) or not client.closed:
                    await asyncio.sleep(0.05)
        # The shim's events, in containerd's Any naming.
        assert exit_event.namespace == shim.namespace
        assert exit_event.event.type_url == "containerd.events.TaskExit"
        exited = task_events_pb2.TaskExit.FromString(exit_event.event.value)
        assert (exited.container_id, exited.pid, exited.exit_status) == (
            shim.id, created.pid, 3)
        topics = [env.topic for env in sink.envelopes]
        assert topics[:2] == ["/tasks/create", "/tasks/start"], topics
        create = task_events_pb2.TaskCreate.FromString(sink.envelopes[0].event.value)
        assert (create.container_id, create.pid, create.bundle) == (
            shim.id, created.pid, str(shim.bundle))

    try:
        asyncio.run(scenario())
    finally:
        fifos.close()


def test_go_shim_kill_and_pids_of_a_running_task(shim: GoShim) -> None:
    write_bundle(shim.bundle, ["sh", "-c", "echo started; sleep 1000 & wait"])
    # containerd's file:// scheme: the shim appends both streams to that one file.
    log = shim.bundle / "task.log"
    # containerd.runc.v1.Options in an Any, as containerd passes them: the runtime binary the
    # shim calls is a wrapper that records its arguments, then runs runc.
    calls = shim.bundle / "runtime-calls"
    wrapper = shim.bundle / "runtime-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec runc "$@"\n')
    wrapper.chmod(0o755)
    options = any_pb2.Any(type_url="containerd.runc.v1.Options",
                          value=runc_options_pb2.Options(binary_name=str(wrapper))
                          .SerializeToString())

    async def scenario() -> None:
        async with connected_shim(shim) as (sink, client):
            created = await _call(client, "Create", shim_pb2.CreateTaskRequest(
                id=shim.id, bundle=str(shim.bundle), stdout=f"file://{log}",
                stderr=f"file://{log}", options=options), shim_pb2.CreateTaskResponse)
            await _call(client, "Start", shim_pb2.StartRequest(id=shim.id),
                        shim_pb2.StartResponse)
            await asyncio.wait_for(sink.wait_for("/tasks/start"), 60)
            pids: list[int] = []
            while len(pids) < 2:  # sh, then its sleep once forked
                listed = await _call(client, "Pids", shim_pb2.PidsRequest(id=shim.id),
                                     shim_pb2.PidsResponse)
                pids = [p.pid for p in listed.processes]
                await asyncio.sleep(0.05)
            assert created.pid in pids
            state = await _call(client, "State", shim_pb2.StateRequest(id=shim.id),
                                shim_pb2.StateResponse)
            assert state.status == task_pb2.RUNNING
            waiting = asyncio.ensure_future(_call(
                client, "Wait", shim_pb2.WaitRequest(id=shim.id), shim_pb2.WaitResponse))
            await _call(client, "Kill", shim_pb2.KillRequest(
                id=shim.id, signal=signal.SIGKILL, all=True), empty_pb2.Empty)
            assert (await waiting).exit_status == 128 + signal.SIGKILL
            deleted = await _call(client, "Delete", shim_pb2.DeleteRequest(id=shim.id),
                                  shim_pb2.DeleteResponse)
            assert deleted.exit_status == 128 + signal.SIGKILL
            # The task is gone: the shim answers NotFound in containerd's terms.
            with pytest.raises(errors.NotFound):
                await _call(client, "Kill", shim_pb2.KillRequest(
                    id=shim.id, signal=signal.SIGKILL), empty_pb2.Empty)
            await _call(client, "Shutdown", shim_pb2.ShutdownRequest(id=shim.id),
                        empty_pb2.Empty)

    asyncio.run(scenario())
    assert log.read_text() == "started\n"
    verbs = [line.split() for line in calls.read_text().splitlines()]
    assert any("create" in v and shim.id in v for v in verbs), verbs
    assert any("start" in v and shim.id in v for v in verbs), verbs
