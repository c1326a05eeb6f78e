"""Exec records: docker's create-then-start exec with an inspectable record.

`docker exec` (and docker-py's exec_run) first creates an exec (its configuration under a new
id), then starts it, and may inspect it at any time (Running, ExitCode, Pid) and resize its
terminal. A record lives in memory on the loop, as docker's exec store does: it goes with its
container (removed, or the daemon restarted) and, once exited, after a while
(KEEP_EXITED_SECONDS) or when the container has too many (MAX_PER_CONTAINER).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyengine.errors import FailedPrecondition, NotFound

if TYPE_CHECKING:
    from pyengine.containers.execs import ExecProcess

KEEP_EXITED_SECONDS = 300  # docker's exec GC keeps an exited exec about as long
MAX_PER_CONTAINER = 1024


@dataclass(frozen=True)
class ExecConfig:
    """docker's ExecConfig, as create got it."""

    args: list[str]
    env: list[str] = field(default_factory=list)
    workdir: str = ""
    user: str = ""
    tty: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    detach_keys: str = ""
    privileged: bool = False


@dataclass
class ExecRecord:
    id: str
    container_id: str
    config: ExecConfig
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    exited_at: float = 0.0
    process: ExecProcess | None = field(default=None, repr=False)
    # the terminal size asked before the process ran (dockerd keeps it for the start)
    size: tuple[int, int] | None = None

    def claim(self) -> None:
        """Mark it started; an exec starts once (docker's 409 texts)."""
        if self.running:
            raise FailedPrecondition(f"Error: Exec command {self.id} is already running")
        if self.started:
            raise FailedPrecondition(f"Error: Exec command {self.id} has already run")
        self.started = True

    def attach(self, process: ExecProcess, pid: int) -> None:
        """Its process started: running until its status is known."""
        self.process = process
        self.pid = pid
        self.running = True
        process.status.add_done_callback(self._exited)

    def failed(self, err: Exception) -> None:
        """It could not start: dockerd 20.10's exit code for that, 126 whatever the cause
        (docker exec CTR nosuchcmd exits 126)."""
        self.exit_code = 126
        self.exited_at = time.monotonic()

    def _exited(self, status: asyncio.Future[int]) -> None:
        self.running = False
        self.exit_code = status.result() if not status.cancelled() else 255
        self.exited_at = time.monotonic()
        self.process = None


class ExecStore:
    """The exec records by id (docker's exec ids are 64 hex digits)."""

    def __init__(self) -> None:
        self._records: dict[str, ExecRecord] = {}

    def add(self, record: ExecRecord) -> None:
        self._prune(record.container_id)
        self._records[record.id] = record

    def get(self, exec_id: str) -> ExecRecord:
        record = self._records.get(exec_id)
        if record is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return record

    def of_container(self, cid: str) -> list[str]:
        """The ids of a container's execs (docker's inspect ExecIDs: null when none)."""
        return [r.id for r in self._records.values() if r.container_id == cid]

    def forget_container(self, cid: str) -> None:
        for exec_id in self.of_container(cid):
            del self._records[exec_id]

    def _prune(self, cid: str) -> None:
        now = time.monotonic()
        for r in list(self._records.values()):
            if r.exit_code is not None and now - r.exited_at > KEEP_EXITED_SECONDS:
                del self._records[r.id]
        mine = [r for r in self._records.values() if r.container_id == cid]
        for r in mine[:max(0, len(mine) - MAX_PER_CONTAINER + 1)]:
            if not r.running:
                del self._records[r.id]
