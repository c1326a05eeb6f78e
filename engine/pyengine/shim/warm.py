"""What the shim zygote does before it freezes its heap and forks shims (zygote.py): build
everything a shim builds lazily on its first requests, and fill the holes in the allocator's
pools, so that a forked shim writes to as few of the pages it shares with the zygote (and its
sibling shims) as it can. Each page a shim writes becomes its own copy: 4 KiB of private memory
per idle container.

Measured per extra idle container (tools/bench/engine.py, memory part) in docs/ENGINE.md.
"""

from __future__ import annotations

import os
import sys
import tempfile

_BYTES_HEADER = 33  # sys.getsizeof(b""): a bytes object of n bytes takes 33 + n
_WARM_CALLS = 20  # more than the 8 runs after which CPython 3.11 specializes a code object
_kept: list[object] = []  # the fillers: alive as long as the zygote (and in every shim)


def warm_up() -> None:
    """Import and exercise what a shim uses: its modules, one event loop's set-up, and one
    encode/decode of every message type of the shim API (protobuf builds its per-class state on
    first use)."""
    import asyncio

    from . import server_main  # noqa: F401 - imported to be shared by the forked shims
    from .api import events_pb2, mount_pb2, runc_options_pb2, shim_pb2, task_events_pb2, task_pb2

    for module in (events_pb2, mount_pb2, runc_options_pb2, shim_pb2, task_events_pb2, task_pb2):
        for name in module.DESCRIPTOR.message_types_by_name:
            message_type = getattr(module, name)
            message_type.FromString(message_type().SerializeToString())

    asyncio.run(_serve_a_few_calls())


async def _serve_a_few_calls() -> None:
    """A Task service over our ttrpc on a private socket, asked Connect and a State that fails
    (its error path) often enough that CPython 3.11 specializes the bytecode of that path
    (quickening writes into each code object): done here, the shims share it."""
    import shutil

    from .api import TASK_SERVICE, shim_pb2
    from .events import Publisher
    from .reaper import Reaper
    from .service import TaskService
    from .ttrpc.client import Client
    from .ttrpc.errors import TtrpcError
    from .ttrpc.server import Server

    directory = tempfile.mkdtemp(prefix="pyshim-warm-")
    try:
        path = os.path.join(directory, "s")
        server = Server(same_user_only=True)
        service = TaskService("warm", directory, Publisher("", "warm"), Reaper(), server,
                              lambda: None)
        server.register(TASK_SERVICE, service.methods())
        await server.listen(path)
        client = await Client.connect(path)
        try:
            for _ in range(_WARM_CALLS):
                await client.unary(TASK_SERVICE, "Connect", shim_pb2.ConnectRequest(id="w"),
                                   shim_pb2.ConnectResponse)
                try:
                    await client.unary(TASK_SERVICE, "State", shim_pb2.StateRequest(id="w"),
                                       shim_pb2.StateResponse)
                except TtrpcError:
                    pass
        finally:
            await client.close()
            await server.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def fill_free_blocks() -> None:
    """Take every free block of the small-object allocator's pools (CPython's own statistics
    say how many of each size class): a shim's new objects then go to fresh pages of its own
    instead of into free slots of pages it shares, each of which it would copy whole."""
    for size, free in _free_blocks().items():
        length = size - _BYTES_HEADER
        if length > 0:
            _kept.extend(bytes(length) for _ in range(free))


def _free_blocks() -> dict[int, int]:
    """{block size: free blocks in used pools}, from sys._debugmallocstats() (written to the
    C stderr: read back through a temporary file)."""
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    blocks: dict[int, int] = {}
    for line in text.splitlines():
        # "class   size   num pools   blocks in use  avail blocks"
        parts = line.split()
        if len(parts) == 5 and all(p.isdigit() for p in parts):
            blocks[int(parts[1])] = int(parts[4])
    return blocks
