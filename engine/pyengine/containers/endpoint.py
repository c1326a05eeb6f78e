"""The events endpoint shims report to: containerd.services.events.ttrpc.v1.Events/Forward on a
root-only unix socket under the exec root (the shims' TTRPC_ADDRESS). Task events become calls
of `on_exit` and bus events of the containers domain."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2

from pyengine.shim.api import EVENTS_SERVICE, events_pb2, task_events_pb2
from pyengine.shim.ttrpc.server import Context, Server, unary

log = logging.getLogger("pyengine.containers")

# (id, exit status, exited at ns, pid)
ExitHandler = Callable[[str, int, int, int], Coroutine[Any, Any, None]]


class EventsEndpoint:
    def __init__(self, path: Path, on_exit: ExitHandler) -> None:
        self.path = path
        self.on_exit = on_exit
        self.server = Server(same_user_only=True, log=lambda line: log.warning(line))
        self._tasks: set[asyncio.Task[None]] = set()
        self.server.register(EVENTS_SERVICE,
                             {"Forward": unary(events_pb2.ForwardRequest, self.forward)})

    async def listen(self) -> None:
        self.path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            await self.server.listen(str(self.path))
        finally:
            os.umask(old)

    async def forward(self, ctx: Context, req: events_pb2.ForwardRequest) -> empty_pb2.Empty:
        envelope = req.envelope
        if envelope.topic == "/tasks/exit":
            event = task_events_pb2.TaskExit.FromString(envelope.event.value)
            if not event.id or event.id == event.container_id:  # the init, not an exec
                at = event.exited_at
                # handled after answering: the shim waits for the answer, and handling an
                # exit calls the shim back (Delete, Shutdown)
                task = asyncio.create_task(self.on_exit(
                    event.container_id, int(event.exit_status),
                    at.seconds * 1_000_000_000 + at.nanos, int(event.pid)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        elif envelope.topic == "/tasks/oom":
            oom = task_events_pb2.TaskOOM.FromString(envelope.event.value)
            log.info("container out of memory", extra={"fields": {"id": oom.container_id}})
        return empty_pb2.Empty()

    async def close(self) -> None:
        await self.server.close()
        self.path.unlink(missing_ok=True)
