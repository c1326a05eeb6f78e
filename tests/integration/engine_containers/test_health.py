"""Health checks through a real pyengined (busybox): the image's HEALTHCHECK (committed with
--change) or run's --health-* flags, probed as execs in the container; the status in inspect,
ps (status line and health= filter) and events; the timeout; the status kept over a daemon
restart. Intervals are short and every wait polls under a generous deadline: nothing asserts
on timing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

DEADLINE = 120.0  # seconds a status may take to come (a loaded machine), never asserted on
FAST = ("--health-interval", "200ms")


def _inspect(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


def _wait(engine: ContainerEngine, ref: str, ready: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + DEADLINE
    while True:
        doc = _inspect(engine, ref)
        if ready(doc.get("State", {}).get("Health") or {}):
            return doc
        assert time.monotonic() < deadline, f"health never got there: {doc['State']}"
        time.sleep(0.1)


def _status(status: str) -> Callable[[dict], bool]:
    return lambda h: h.get("Status") == status


def _ps(engine: ContainerEngine, *filters: str) -> dict[str, str]:
    args = [a for f in filters for a in ("--filter", f)]
    out = engine.out("ps", "-a", *args, "--format", "{{.Names}}\t{{.Status}}")
    return dict(line.split("\t", 1) for line in out.splitlines())


def _since_now() -> str:
    ns = time.time_ns()
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def _events(engine: ContainerEngine, since: str, ref: str) -> list[str]:
    out = engine.out("events", "--since", since, "--until", _since_now(), "--filter",
                     f"container={ref}", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
    return out.splitlines()


def test_image_healthcheck_makes_the_container_healthy(engine: ContainerEngine) -> None:
    engine.out("create", "--name", "hc-base", "busybox", "true")
    engine.out("commit", "-c", "HEALTHCHECK --interval=200ms --timeout=20s CMD echo fine",
               "hc-base", "hc-image:1")
    since = _since_now()
    engine.out("run", "-d", "--name", "hc-ok", "hc-image:1", "sleep", "1000")
    engine.out("run", "-d", "--name", "hc-plain", "busybox", "sleep", "1000")
    doc = _wait(engine, "hc-ok", _status("healthy"))
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "echo fine"],
                                            "Interval": 200_000_000, "Timeout": 20_000_000_000}
    hc = doc["State"]["Health"]
    assert hc["FailingStreak"] == 0
    assert hc["Log"][-1]["ExitCode"] == 0 and hc["Log"][-1]["Output"] == "fine\n"
    assert "Health" not in _inspect(engine, "hc-plain")["State"]
    listed = _ps(engine)
    assert listed["hc-ok"].startswith("Up ") and listed["hc-ok"].endswith(" (healthy)")
    assert not listed["hc-plain"].endswith(")")
    assert set(_ps(engine, "health=healthy")) == {"hc-ok"}
    assert "hc-plain" in _ps(engine, "health=none") and "hc-ok" not in _ps(engine, "health=none")
    assert _ps(engine, "health=unhealthy") == {} and _ps(engine, "health=starting") == {}
    events = _events(engine, since, "hc-ok")
    assert "health_status: healthy hc-ok" in events
    # each probe is an exec, with docker's exec events naming its command
    assert "exec_create: /bin/sh -c echo fine hc-ok" in events
    assert "exec_start: /bin/sh -c echo fine hc-ok" in events
    assert "exec_die hc-ok" in events
    engine.out("rm", "-f", "hc-ok", "hc-plain", "hc-base")
    engine.out("rmi", "hc-image:1")


def test_a_failing_check_makes_it_unhealthy_after_the_retries(engine: ContainerEngine) -> None:
    since = _since_now()
    engine.out("run", "-d", "--name", "hc-bad", *FAST, "--health-retries", "2",
               "--health-cmd", "echo broken; exit 3", "busybox", "sleep", "1000")
    doc = _wait(engine, "hc-bad", _status("unhealthy"))
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "echo broken; exit 3"],
                                            "Interval": 200_000_000, "Retries": 2}
    hc = doc["State"]["Health"]
    assert hc["FailingStreak"] >= 2
    assert {(e["ExitCode"], e["Output"]) for e in hc["Log"]} == {(3, "broken\n")}
    # the log keeps the last five results; the streak goes on counting
    hc = _wait(engine, "hc-bad", lambda h: h.get("FailingStreak", 0) > 6)["State"]["Health"]
    assert len(hc["Log"]) == 5 and hc["Status"] == "unhealthy"
    assert _ps(engine)["hc-bad"].endswith(" (unhealthy)")
    assert set(_ps(engine, "health=unhealthy")) == {"hc-bad"}
    events = _events(engine, since, "hc-bad")
    assert events.count("health_status: unhealthy hc-bad") == 1  # on the change only
    # once stopped, the last status stays in inspect (docker's) and no probe runs any more
    engine.out("stop", "-t", "0", "hc-bad")
    stopped = _inspect(engine, "hc-bad")["State"]
    assert stopped["Health"]["Status"] == "unhealthy"
    assert _ps(engine)["hc-bad"].startswith("Exited")
    engine.out("rm", "hc-bad")


def test_starting_and_the_start_period(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "hc-slow", "--health-interval", "1h", "--health-cmd",
               "true", "busybox", "sleep", "1000")
    assert _inspect(engine, "hc-slow")["State"]["Health"] == {
        "Status": "starting", "FailingStreak": 0, "Log": []}
    assert _ps(engine)["hc-slow"].endswith(" (health: starting)")
    assert set(_ps(engine, "health=starting")) == {"hc-slow"}
    # failures within the start period do not count while the container is starting
    engine.out("run", "-d", "--name", "hc-grace", *FAST, "--health-start-period", "1h",
               "--health-retries", "1", "--health-cmd", "false", "busybox", "sleep", "1000")
    hc = _wait(engine, "hc-grace", lambda h: len(h.get("Log", [])) >= 3)["State"]["Health"]
    assert (hc["Status"], hc["FailingStreak"]) == ("starting", 0)
    assert {e["ExitCode"] for e in hc["Log"]} == {1}
    engine.out("rm", "-f", "hc-slow", "hc-grace")


def test_no_healthcheck_and_healthcheck_none_disable_it(engine: ContainerEngine) -> None:
    engine.out("create", "--name", "hc-base2", "busybox", "true")
    engine.out("commit", "-c", "HEALTHCHECK --interval=200ms CMD false", "hc-base2",
               "hc-image:2")
    engine.out("commit", "-c", "HEALTHCHECK NONE", "hc-base2", "hc-image:none")
    engine.out("run", "-d", "--name", "hc-off", "--no-healthcheck", "hc-image:2", "sleep",
               "1000")
    engine.out("run", "-d", "--name", "hc-none", "hc-image:none", "sleep", "1000")
    off = _inspect(engine, "hc-off")
    # a check is set to "starting" when its container starts: none here, so none runs
    assert "Health" not in off["State"]
    assert off["Config"]["Healthcheck"] == {"Test": ["NONE"], "Interval": 200_000_000}
    none = _inspect(engine, "hc-none")
    assert "Health" not in none["State"] and none["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    assert {"hc-off", "hc-none"} <= set(_ps(engine, "health=none"))
    result = engine.pyctl("run", "--no-healthcheck", "--health-cmd", "x", "busybox")
    assert result.returncode == 125
    assert "--no-healthcheck conflicts with --health-* options" in result.stderr.decode()
    result = engine.pyctl("run", "--health-interval", "500us", "--health-cmd", "x", "busybox")
    assert result.returncode == 125
    assert "Interval in Healthcheck cannot be less than 1ms" in result.stderr.decode()
    engine.out("rm", "-f", "hc-off", "hc-none", "hc-base2")
    engine.out("rmi", "hc-image:2", "hc-image:none")


def test_a_probe_over_its_timeout_is_killed_and_fails(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "hc-hang", *FAST, "--health-timeout", "300ms",
               "--health-retries", "1", "--health-cmd", "sleep 1234", "busybox",
               "sleep", "1000")
    doc = _wait(engine, "hc-hang", lambda h: len(h.get("Log", [])) >= 3)
    hc = doc["State"]["Health"]
    assert hc["Status"] == "unhealthy"
    assert {(e["ExitCode"], e["Output"]) for e in hc["Log"]} == {
        (-1, "Health check exceeded timeout (300ms)")}
    # each timed-out probe was killed before the next began: never more than one at a time
    listing = engine.out("exec", "hc-hang", "ps")
    assert sum("sleep 1234" in line for line in listing.splitlines()) <= 1
    engine.out("rm", "-f", "hc-hang")


def test_the_status_survives_a_daemon_restart(
        make_engine: Callable[[], ContainerEngine]) -> None:
    engine = make_engine()
    engine.out("run", "-d", "--name", "hc-keep", *FAST, "--health-cmd", "echo up", "busybox",
               "sleep", "1000")
    _wait(engine, "hc-keep", _status("healthy"))
    assert engine.stop() == 0
    engine.start()
    hc = _inspect(engine, "hc-keep")["State"]["Health"]
    assert hc["Status"] == "healthy" and hc["Log"]
    last = hc["Log"][-1]
    # and the monitor probes again after the restart
    _wait(engine, "hc-keep", lambda h: h["Log"][-1] != last)
    engine.out("rm", "-f", "hc-keep")
