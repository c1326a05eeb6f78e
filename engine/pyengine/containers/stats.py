"""docker stats' samples: every second, each container's cgroup figures from its shim's Stats,
its network counters from its network namespace, and CPU % against the previous sample."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyengine.containers import metrics
from pyengine.containers.model import RUNNING, Container
from pyengine.errors import EngineError, NotFound

if TYPE_CHECKING:
    from pyengine.containers.service import ContainerService

INTERVAL = 1.0


@dataclass(frozen=True)
class Figures:
    """One container's line of docker stats (zeros when it is not running)."""

    id: str
    name: str
    running: bool = False
    cpu_percent: float = 0.0
    memory: int = 0
    memory_limit: int = 0
    memory_percent: float = 0.0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0
    # the raw figures behind the percentages (docker's stats JSON carries them): CPU time
    # of the container and of the host now and at the previous sample (0: none), in ns
    cpu_ns: int = 0
    system_ns: int = 0
    pre_cpu_ns: int = 0
    pre_system_ns: int = 0
    online_cpus: int = 0


def _net_of(pid: int) -> tuple[int, int]:
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            return metrics.net_bytes(f.read())
    except OSError:
        return 0, 0


class Sampler:
    """Samples a set of containers; remembers each one's previous CPU figures."""

    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self.online_cpus = os.sysconf("SC_NPROCESSORS_ONLN")
        self.machine_memory = metrics.machine_memory()
        self.previous: dict[str, tuple[int, int]] = {}  # id -> (container cpu, system cpu)

    async def sample(self, containers: list[Container]) -> list[Figures]:
        system = await asyncio.to_thread(metrics.read_system_cpu_ns)
        return list(await asyncio.gather(*(self._one(c, system) for c in containers)))

    async def _one(self, c: Container, system: int) -> Figures:
        shim = self.service.shim_of(c.id) if c.state.status == RUNNING else None
        if shim is None:
            self.previous.pop(c.id, None)
            return Figures(c.id, c.name)
        try:
            usage = metrics.decode(await shim.stats())
        except EngineError:
            self.previous.pop(c.id, None)
            return Figures(c.id, c.name)
        rx, tx = await asyncio.to_thread(_net_of, c.state.pid) if c.state.pid else (0, 0)
        before = self.previous.get(c.id)
        self.previous[c.id] = (usage.cpu_ns, system)
        cpu = metrics.cpu_percent(before[0], before[1], usage.cpu_ns, system,
                                  self.online_cpus) if before else 0.0
        limit = metrics.shown_limit(usage.memory_limit, self.machine_memory)
        return Figures(c.id, c.name, running=True, cpu_percent=cpu, memory=usage.memory,
                       memory_limit=limit, memory_percent=metrics.memory_percent(usage.memory,
                                                                                 limit),
                       net_rx=rx, net_tx=tx, block_read=usage.block_read,
                       block_write=usage.block_write, pids=usage.pids, cpu_ns=usage.cpu_ns,
                       system_ns=system, pre_cpu_ns=before[0] if before else 0,
                       pre_system_ns=before[1] if before else 0,
                       online_cpus=self.online_cpus)


async def frames(service: ContainerService, refs: list[str], stream: bool,
                 one_shot: bool = False) -> AsyncGenerator[list[Figures], None]:
    """A frame per second while `stream` (the first at once), else one frame after two
    samples a second apart (so CPU % has a delta), or at once with `one_shot` (no delta).
    Named containers (`refs`) are resolved once (NotFound before any frame) and leave the
    frames when removed; none named: the running ones at each sample."""
    ids = [(await asyncio.to_thread(service.get, ref)).id for ref in refs]

    def current() -> list[Container]:
        if not ids:
            return [c for c in service.all() if c.state.status == RUNNING]
        found = []
        for cid in ids:
            try:
                found.append(service.repo.get(cid))
            except NotFound:
                continue
        return found

    sampler = Sampler(service)
    first = True
    while True:
        figures = await sampler.sample(await asyncio.to_thread(current))
        if stream or not first or one_shot:
            yield figures
            if not stream:
                return
        first = False
        await asyncio.sleep(INTERVAL)
