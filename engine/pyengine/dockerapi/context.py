"""What every route handler gets: the engine's domains and the daemon's pools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyengine.config import DaemonConfig
    from pyengine.engine import Engine
    from pyengine.services.jobs import Jobs
    from pyengine.services.workers import Workers


@dataclass
class ApiContext:
    engine: Engine
    workers: Workers  # blocking domain calls: `await api.workers.run(fn, ...)`
    jobs: Jobs  # long jobs with progress (pull, push, load), as the gRPC edge runs them

    @property
    def config(self) -> DaemonConfig:
        return self.engine.config
