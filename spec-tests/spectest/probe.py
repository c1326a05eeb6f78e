"""Run the probe in a container and return its JSON report."""

from __future__ import annotations

import json
import tempfile
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


def observe_detached(ctr: Container, *args: str) -> dict[str, Any]:
    """create + start (as containerd's shim does), the probe writing to a file the runtime was
    given as stdout; wait for the container to stop, then parse the file."""
    if args:
        ctr.config["process"]["args"] = [PROBE, *args]
    with tempfile.TemporaryFile() as out:
        res = ctr.create(stdout=out)
        if res.returncode != 0:
            raise ProbeFailed(f"{ctr.rt.name} create {ctr.id}: exit {res.returncode}: "
                              f"{res.stderr.decode(errors='replace').strip()}")
        pid = ctr.state()["pid"]
        res = ctr.start()
        if res.returncode != 0:
            raise ProbeFailed(f"{ctr.rt.name} start {ctr.id}: exit {res.returncode}: "
                              f"{res.stderr.decode(errors='replace').strip()}")
        ctr.wait_status("stopped")
        code = ctr.reap(pid, block=True)
        out.seek(0)
        data = out.read()
    if code not in (0, None):
        raise ProbeFailed(f"{ctr.rt.name} {ctr.id}: probe exited {code}: {data[:500]!r}")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ProbeFailed(f"{ctr.rt.name} {ctr.id}: probe output is not JSON: "
                          f"{data[:500]!r}") from exc


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
