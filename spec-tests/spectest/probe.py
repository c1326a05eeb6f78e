"""Run the probe in a container and return its JSON report."""

from __future__ import annotations

import json
from typing import Any

from .bundle import PROBE, Container


class ProbeFailed(AssertionError):
    pass


def observe(ctr: Container, *args: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`run` the container with `/probe ARGS...` in the foreground; parse its stdout."""
    if args:
        ctr.config["process"]["args"] = [PROBE, *args]
    res = ctr.run(*extra)
    if res.returncode != 0:
        raise ProbeFailed(
            f"{ctr.rt.name} run {ctr.id}: exit {res.returncode}\n"
            f"stderr: {res.stderr.decode(errors='replace').strip()}\n"
            f"stdout: {res.stdout.decode(errors='replace')[:2000]}"
        )
    try:
        return json.loads(res.stdout)
    except ValueError as exc:
        raise ProbeFailed(f"{ctr.rt.name} run {ctr.id}: probe output is not JSON: "
                          f"{res.stdout[:500]!r} stderr {res.stderr[:500]!r}") from exc


def mount_at(report: dict[str, Any], target: str) -> dict[str, Any] | None:
    """The last (topmost) mount at target, as parsed from mountinfo."""
    found = None
    for m in report["mounts"]:
        if m["target"] == target:
            found = m
    return found


def mount_options(m: dict[str, Any]) -> set[str]:
    return set(m["options"].split(","))


def cap_set(report: dict[str, Any], field: str) -> int:
    return int(report["ids"][field], 16)
