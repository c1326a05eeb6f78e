"""The shim daemon's life after `start` forked it: serve the Task service (and group.py's
Reserve) on the inherited socket until a Shutdown finds it idle, reaping children and
publishing events; its socket is unlinked as soon as it decides to leave."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import TYPE_CHECKING

from . import group
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

    def leave() -> None:
        # New `start`s find no shim here from now on and start another one.
        with contextlib.suppress(OSError):
            os.unlink(path)
        done.set()

    server = Server(same_user_only=True)
    service = TaskService(flags.namespace, bundle, publisher, reaper, server, leave)
    server.register(TASK_SERVICE, service.methods())
    server.register(group.SERVICE, service.group_methods())
    service.reserve(flags.id)  # the container whose `start` made this shim
    await server.listen(sock=sock)
    await done.wait()
    await server.shutdown()
    await publisher.close()
    return 0
