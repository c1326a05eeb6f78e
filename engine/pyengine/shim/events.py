"""Task events published back to containerd: each goes, in order, through one ttrpc
connection to $TTRPC_ADDRESS (containerd.services.events.ttrpc.v1.Events/Forward) with the
namespace, the topic and a timestamp (containerd refuses an envelope without them).

Publishing never blocks a task: events queue up (bounded; the oldest is dropped when full),
a failing connection is logged in one line and retried for the next event.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING

from .api import EVENTS_SERVICE
from .ttrpc.client import Client
from .ttrpc.errors import TtrpcError

if TYPE_CHECKING:
    from google.protobuf.message import Message

MAX_QUEUED = 1024

TOPICS = {
    "TaskCreate": "/tasks/create", "TaskStart": "/tasks/start", "TaskExit": "/tasks/exit",
    "TaskDelete": "/tasks/delete", "TaskOOM": "/tasks/oom", "TaskExecAdded": "/tasks/exec-added",
    "TaskExecStarted": "/tasks/exec-started", "TaskPaused": "/tasks/paused",
    "TaskResumed": "/tasks/resumed",
}


class Publisher:
    def __init__(self, address: str, namespace: str) -> None:
        self.address = address.removeprefix("unix://")
        self.namespace = namespace
        self._queue: asyncio.Queue[Message] = asyncio.Queue(MAX_QUEUED)
        self._task: asyncio.Task[None] | None = None
        self._client: Client | None = None

    def publish(self, event: Message) -> None:
        if not self.address:
            return
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(event)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> None:
        """Wait (bounded) until what is queued has been sent or given up."""
        if self._task is not None:
            try:
                await asyncio.wait_for(self._queue.join(), 10)
            except TimeoutError:
                pass

    async def _run(self) -> None:
        from google.protobuf import any_pb2, empty_pb2

        from .api import events_pb2

        while True:
            event = await self._queue.get()
            try:
                name = type(event).__name__
                envelope = events_pb2.Envelope(
                    namespace=self.namespace, topic=TOPICS[name],
                    event=any_pb2.Any(type_url=f"containerd.events.{name}",
                                      value=event.SerializeToString()))
                envelope.timestamp.FromNanoseconds(time.time_ns())
                await self._send(events_pb2.ForwardRequest(envelope=envelope), empty_pb2.Empty)
            finally:
                self._queue.task_done()

    async def _send(self, request: Message, reply: type[Message]) -> None:
        for attempt in (1, 2):  # a stale connection gets one fresh retry
            try:
                if self._client is None or self._client.closed:
                    self._client = await Client.connect(self.address)
                await self._client.unary(EVENTS_SERVICE, "Forward", request, reply, timeout=10)
                return
            except (OSError, TtrpcError) as e:
                if self._client is not None:
                    await self._client.close()
                    self._client = None
                if attempt == 2:
                    print(f"shim: publishing an event to {self.address}: {e}", file=sys.stderr,
                          flush=True)

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
        if self._client is not None:
            await self._client.close()
