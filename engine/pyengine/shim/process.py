"""A container's processes as the shim tracks them: the init process (the container itself)
and exec'd ones. Each has a state (created, running, paused, stopped), a pid once the runtime
has started it, its stdio, and an exit status set once, when the reaper reports it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .stdio import ProcessIO

CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
DELETED = "deleted"


@dataclass
class Process:
    container_id: str
    exec_id: str  # "" for the init process
    stdin: str
    stdout: str
    stderr: str
    terminal: bool
    io: ProcessIO | None = None
    pid: int = 0
    state: str = CREATED
    exit_status: int = 0
    exited_at_ns: int = 0
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    spec_file: str = ""  # exec: the process spec handed to `runtime exec --process`

    @property
    def is_init(self) -> bool:
        return not self.exec_id

    def set_exited(self, status: int) -> None:
        if self.exited.is_set():
            return
        self.exit_status = status
        self.exited_at_ns = time.time_ns()
        self.state = STOPPED
        if self.io is not None:
            self.io.close_stdin()
        self.exited.set()
