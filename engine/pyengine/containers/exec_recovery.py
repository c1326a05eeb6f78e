"""Execs across a daemon restart: the execs a container's bundle records (their fifos,
`exec-<id>-<stream>.fifo`, made by execs.py and ContainerService.exec) are looked up in the
shim when the daemon reconnects to it. One still running is waited for (its output, if the
shim still writes it, drained: nobody can attach to it again, and its stdin closed: nobody can
feed it); then, as one already exited, it is deleted in the shim and its fifos are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.containers import fanout as fanouts
from pyengine.errors import EngineError, NotFound

if TYPE_CHECKING:
    from pyengine.containers.shims import Shim

log = logging.getLogger("pyengine.containers")

PREFIX, SUFFIX = "exec-", ".fifo"


def recorded(bundle: Path) -> dict[str, list[Path]]:
    """The exec ids whose fifos are in `bundle`, with those fifos."""
    found: dict[str, list[Path]] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(bundle):
            name = entry.name
            if name.startswith(PREFIX) and name.endswith(SUFFIX):
                exec_id, _, stream = name[len(PREFIX):-len(SUFFIX)].rpartition("-")
                if exec_id and stream:
                    found.setdefault(exec_id, []).append(bundle / name)
    return found


def forget(bundle: Path) -> None:
    """The container's shim and its execs are gone: their fifos go too."""
    for fifos in recorded(bundle).values():
        _unlink(fifos)


def adopt(shim: Shim, bundle: Path) -> list[asyncio.Task[None]]:
    """A task for each exec the bundle records, ending once the exec is deleted."""
    return [asyncio.create_task(_finish(shim, exec_id, fifos))
            for exec_id, fifos in recorded(bundle).items()]


async def _finish(shim: Shim, exec_id: str, fifos: list[Path]) -> None:
    from pyengine.shim.api import task_pb2

    pumps: list[asyncio.Task[None]] = []
    done = False
    try:
        try:
            state = await shim.state(exec_id)
        except NotFound:  # never started, or deleted before the daemon went
            done = True
            return
        if state.status != task_pb2.STOPPED:
            pumps = _drain(fifos)
            if any(p.name.endswith("-stdin" + SUFFIX) for p in fifos):
                with contextlib.suppress(EngineError):
                    await shim.close_stdin(exec_id)
            log.info("exec: waiting again after the daemon's restart",
                     extra={"fields": {"id": shim.id, "exec": exec_id}})
            await shim.wait(exec_id)
        await shim.delete(exec_id)
        done = True
    except EngineError as err:  # the shim went away with the container
        log.info("exec: not deleted", extra={"fields": {
            "id": shim.id, "exec": exec_id, "error": str(err)}})
        done = True
    finally:
        for task in pumps:
            task.cancel()
        if done:  # not when the daemon stops meanwhile: its next start looks again
            _unlink(fifos)


def _drain(fifos: list[Path]) -> list[asyncio.Task[None]]:
    """Read (and drop) what the shim still writes of the exec's output."""
    sink = fanouts.Fanout()
    pumps = []
    for path in fifos:
        stream = path.name[:-len(SUFFIX)].rpartition("-")[2]
        if stream in ("stdout", "stderr"):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue
            pumps.append(asyncio.create_task(fanouts.pump(fd, stream, sink)))
    return pumps


def _unlink(fifos: list[Path]) -> None:
    for path in fifos:
        path.unlink(missing_ok=True)
