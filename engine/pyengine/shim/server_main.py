"""The shim daemon's life after `start` forked it: serve the Task service on the inherited
socket until Shutdown, reaping children and publishing events; remove the socket on the way
out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import TYPE_CHECKING

from .api import TASK_SERVICE
from .events import Publisher
from .reaper import Reaper
from .service import TaskService
from .ttrpc.server import Server

if TYPE_CHECKING:
    from .main import Flags


def serve(sock: socket.socket, path: str, flags: Flags, bundle: str) -> int:
    return asyncio.run(_serve(sock, path, flags, bundle))


async def _serve(sock: socket.socket, path: str, flags: Flags, bundle: str) -> int:
    loop = asyncio.get_running_loop()
    reaper = Reaper()
    reaper.install(loop)
    publisher = Publisher(os.environ.get("TTRPC_ADDRESS", ""), flags.namespace)
    done = asyncio.Event()
    server = Server(same_user_only=True)
    service = TaskService(flags.namespace, bundle, publisher, reaper, server, done.set)
    server.register(TASK_SERVICE, service.methods())
    await server.listen(sock=sock)
    await done.wait()
    await server.shutdown()
    with contextlib.suppress(OSError):
        os.unlink(path)
    await publisher.close()
    return 0
