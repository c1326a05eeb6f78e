"""v1 pids controller: the same pids.max and pids.current files and syntax as v2."""

from __future__ import annotations

from pyrunc.cgroups.v2.pids import apply, stats, wants

__all__ = ["apply", "stats", "wants"]
