"""Restart policies: on-failure:N restarts a failing container N times; always restarts until
stopped by hand; across a daemon restart, always starts a container stopped by hand again and
unless-stopped does not."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]


def _state(engine: ContainerEngine, ref: str) -> tuple[dict, int]:
    doc = json.loads(engine.out("inspect", "--type", "container", ref))[0]
    return doc["State"], doc["RestartCount"]


def test_on_failure_restarts_up_to_the_limit(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "failing", "--restart", "on-failure:2", "busybox", "sh",
               "-c", "echo run; exit 3")
    # Three runs logged and the last one over. The state is read after the log: a run's line
    # can be logged before its start is recorded, so the record may still show the run
    # before it for a moment (the deadline only bounds a hang).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = engine.out("logs", "failing").count("run")
        state, count = _state(engine, "failing")
        if runs == 3 and state["Status"] == "exited" and count >= 2:
            break
    assert (runs, count, state["ExitCode"]) == (3, 2, 3)
    doc = json.loads(engine.out("inspect", "failing"))[0]
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    engine.out("rm", "failing")


def test_always_restarts_until_stopped_and_conflicts_with_rm(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c",
               "echo run; exit 0")
    while _state(engine, "phoenix")[1] < 2:
        pass
    engine.out("stop", "-t", "1", "phoenix")
    state, _ = _state(engine, "phoenix")
    assert state["Status"] == "exited"
    engine.out("rm", "phoenix")
    conflict = engine.pyctl("run", "--rm", "--restart", "always", "busybox", "true")
    assert conflict.returncode == 125
    assert b"Conflicting options: --restart and --rm" in conflict.stderr


def test_a_restart_waiting_out_its_backoff_is_restarting(engine: ContainerEngine) -> None:
    """docker's Restarting: between a run's exit and the policy's next start the container is
    "restarting" (State.Running true, as docker has it, so ps lists it without -a), and
    stop ends that: exited, not restarting."""
    cid = engine.out("run", "-d", "--name", "looping", "--restart", "always", "busybox",
                     "sh", "-c", "exit 3").strip()
    deadline = time.monotonic() + 120  # bounds a hang only: the backoff grows with each run
    state, _ = _state(engine, "looping")
    while not state["Restarting"] and time.monotonic() < deadline:
        state, _ = _state(engine, "looping")
    assert (state["Status"], state["Running"], state["ExitCode"]) == ("restarting", True, 3)

    def seen(*args: str) -> str:
        """`ps ARGS` once it shows the container restarting (its runs come between)."""
        out = engine.out("ps", "--no-trunc", *args)
        while cid not in out and time.monotonic() < deadline:
            out = engine.out("ps", "--no-trunc", *args)
        return out

    listed = seen("--format", "{{.ID}} {{.Status}}", "--filter", "status=restarting")
    assert any(line.startswith(f"{cid} Restarting (3) ") for line in listed.splitlines())
    assert cid in seen("-q")  # no -a: docker lists a restarting container as running
    # prune leaves it be (docker's: restarting is running), and does not fail on it
    engine.out("container", "prune", "-f")
    assert cid in engine.out("ps", "-a", "-q", "--no-trunc").split()
    engine.out("stop", "-t", "1", "looping")
    state, _ = _state(engine, "looping")
    assert (state["Status"], state["Restarting"], state["Running"]) == ("exited", False, False)
    assert engine.out("ps", "-q").split() == []
    engine.out("rm", "looping")


def test_policies_across_a_daemon_restart(make_engine: Callable[..., ContainerEngine]) -> None:
    engine = make_engine()
    for name, policy in (("always-c", "always"), ("unless-c", "unless-stopped"),
                         ("no-c", "no")):
        engine.out("run", "-d", "--name", name, "--restart", policy, "busybox", "sleep",
                   "1000")
        engine.out("stop", "-t", "0", name)
    engine.stop()
    engine.start()
    running = engine.out("ps", "--format", "{{.Names}}").split()
    assert running == ["always-c"]
    assert _state(engine, "unless-c")[0]["Status"] == "exited"
    engine.out("start", "unless-c")
    engine.kill9()  # unless-stopped, running, not stopped by hand: still running after
    engine.start()
    assert sorted(engine.out("ps", "--format", "{{.Names}}").split()) == [
        "always-c", "unless-c"]
    engine.out("rm", "-f", "always-c", "unless-c", "no-c")
