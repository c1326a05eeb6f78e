"""Our ttrpc client publishes to a real containerd's ttrpc events endpoint
(containerd.services.events.ttrpc.v1.Events/Forward, as shims do) and `ctr events` sees the
event; containerd's refusals come back as typed status errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import any_pb2, empty_pb2
from privatecontainerd import PrivateContainerd
from pyengine.shim.api import EVENTS_SERVICE, events_pb2, task_events_pb2
from pyengine.shim.ttrpc import errors
from pyengine.shim.ttrpc.client import Client

pytestmark = [pytest.mark.root]

NAMESPACE = "pyttrpc"


@pytest.fixture
def containerd(scratch: Path) -> Iterator[PrivateContainerd]:
    daemon = PrivateContainerd(scratch)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def _envelope(topic: str, event: task_events_pb2.TaskOOM, namespace: str = NAMESPACE,
              stamped: bool = True) -> events_pb2.ForwardRequest:
    packed = any_pb2.Any(type_url="containerd.events.TaskOOM", value=event.SerializeToString())
    envelope = events_pb2.Envelope(namespace=namespace, topic=topic, event=packed)
    if stamped:  # else absent, which containerd refuses
        envelope.timestamp.FromNanoseconds(time.time_ns())
    return events_pb2.ForwardRequest(envelope=envelope)


def test_forwarded_event_reaches_ctr_events(containerd: PrivateContainerd) -> None:
    async def scenario() -> str:
        watcher = await asyncio.create_subprocess_exec(
            *containerd.ctr_argv("events"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            async with await Client.connect(containerd.ttrpc_address) as client:
                # ctr subscribes asynchronously: forward until it shows one (each event has its
                # own id), bounded by a generous deadline.
                async with asyncio.timeout(60):
                    n = 0
                    while True:
                        n += 1
                        await client.unary(EVENTS_SERVICE, "Forward", _envelope(
                            "/tasks/oom", task_events_pb2.TaskOOM(container_id=f"oom-{n}")),
                            empty_pb2.Empty, timeout=30)
                        try:
                            assert watcher.stdout is not None
                            line = await asyncio.wait_for(watcher.stdout.readline(), 0.5)
                        except TimeoutError:
                            continue
                        return line.decode()
        finally:
            if watcher.returncode is None:
                os.kill(watcher.pid, signal.SIGKILL)
            await watcher.wait()

    line = asyncio.run(scenario())
    # "<date> <time> <zone> UTC <namespace> <topic> <event as JSON>"
    fields = line.split()
    assert fields[-3:-1] == [NAMESPACE, "/tasks/oom"], line
    assert json.loads(fields[-1])["container_id"].startswith("oom-"), line


def test_containerd_refusals_are_typed_errors(containerd: PrivateContainerd) -> None:
    async def scenario() -> None:
        async with await Client.connect(containerd.ttrpc_address) as client:
            oom = task_events_pb2.TaskOOM(container_id="x")
            with pytest.raises(errors.InvalidArgument, match="invalid namespace"):
                await client.unary(EVENTS_SERVICE, "Forward",
                                   _envelope("/tasks/oom", oom, namespace="Not Valid!"),
                                   empty_pb2.Empty, timeout=30)
            with pytest.raises(errors.InvalidArgument, match="timestamp must be set"):
                await client.unary(EVENTS_SERVICE, "Forward",
                                   _envelope("/tasks/oom", oom, stamped=False),
                                   empty_pb2.Empty, timeout=30)
            with pytest.raises(errors.Unimplemented):
                await client.call(EVENTS_SERVICE, "Nope", b"", timeout=30)
            with pytest.raises(errors.Unimplemented):
                await client.call("containerd.task.v2.Task", "State", b"", timeout=30)
            # The connection outlives the errors.
            await client.unary(EVENTS_SERVICE, "Forward", _envelope("/tasks/oom", oom),
                               empty_pb2.Empty, timeout=30)
    asyncio.run(scenario())
