"""v1 rdma controller: the same rdma.max file and syntax as v2."""

from __future__ import annotations

from pyrunc.cgroups.v2.rdma import apply, wants

__all__ = ["apply", "wants"]
