"""docker's health checks: the check a container runs (the image's HEALTHCHECK, overridden by
create's --health-* options), the rules that turn probe results into a status, and one monitor
task per running container that probes it.

A probe is an exec in the container (ContainerService.exec_start: docker's exec_create,
exec_start and exec_die events), after each Interval; one that outlives its Timeout is killed
and counts as a failure (exit -1). The first success makes the container healthy; Retries
failures in a row make it unhealthy, except failures while it is still starting within its
StartPeriod. The status, the failing streak and the last five results live in the
container's state (so they survive a daemon restart); a change of status is a
`health_status: <status>` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from pyengine.containers import execs
from pyengine.containers.event_attrs import event_attributes
from pyengine.containers.logs import parse_rfc3339_nano, rfc3339_nano
from pyengine.containers.model import RUNNING, Container, Spec, State
from pyengine.errors import EngineError, InvalidArgument, NotFound
from pyengine.timevalues import go_duration_text

if TYPE_CHECKING:
    from pyengine.containers.service import ContainerService

log = logging.getLogger("pyengine.containers")

SECOND = 1_000_000_000
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_PERIOD = 0
DEFAULT_RETRIES = 3
MINIMUM_DURATION = 1_000_000  # 1ms, docker's container.MinimumDuration
MAX_LOG = 5  # results kept
MAX_OUTPUT = 4096  # bytes of a probe's output kept
KILL_WAIT = 10.0  # seconds a killed probe is given to report its exit

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"
DURATIONS = ("Interval", "Timeout", "StartPeriod")


class Result(TypedDict):
    """One probe's result, as docker's inspect shows it (State.Health.Log)."""

    Start: str
    End: str
    ExitCode: int
    Output: str


# -- the check's definition ------------------------------------------------------------------

def from_spec(spec: Spec) -> dict[str, Any] | None:
    """The Healthcheck create's options ask for (docker's HealthConfig, zero fields left out),
    None when no --health-* option was given."""
    if spec.no_healthcheck:
        return {"Test": ["NONE"]}
    user: dict[str, Any] = {}
    if spec.health_cmd:
        user["Test"] = list(spec.health_cmd)
    for key, value in (("Interval", spec.health_interval_ns),
                       ("Timeout", spec.health_timeout_ns),
                       ("StartPeriod", spec.health_start_period_ns),
                       ("Retries", spec.health_retries)):
        if value:
            user[key] = value
    return user or None


def merged(image_section: Mapping[str, Any], spec: Spec) -> dict[str, Any] | None:
    """The container's Healthcheck: create's fields over the image's, field by field (docker's
    merge of a create config with its image's); validated as docker's daemon does."""
    image = image_section.get("Healthcheck") or None
    user = from_spec(spec)
    if user is None:
        out = dict(image) if image else None
    else:
        out = user
        for key in ("Test", *DURATIONS, "Retries"):
            if image and not out.get(key) and image.get(key):
                out[key] = image[key]
    if out is not None:
        check(out)
    return out


def check(hc: Mapping[str, Any]) -> None:
    for key in DURATIONS:
        value = int(hc.get(key) or 0)
        if value != 0 and value < MINIMUM_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than "
                                  f"{go_duration_text(MINIMUM_DURATION)}")
    if int(hc.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")


def probe_args(hc: Mapping[str, Any] | None, shell: list[str] | None = None) -> list[str] | None:
    """The probe's command, None when there is none to run (no check, NONE, or an unknown
    type: docker ignores those)."""
    test = list((hc or {}).get("Test") or [])
    if not test:
        return None
    if test[0] == "CMD" and len(test) > 1:
        return test[1:]
    if test[0] == "CMD-SHELL" and len(test) > 1:
        return [*(shell or ["/bin/sh", "-c"]), *test[1:]]
    return None


def of(c: Container) -> dict[str, Any] | None:
    hc = c.config.get("healthcheck")
    return hc if isinstance(hc, dict) else None


def create_fields(image_section: Mapping[str, Any], spec: Spec) -> dict[str, Any]:
    """What a container's record keeps of its check (Container.config)."""
    return {"healthcheck": merged(image_section, spec),
            "image_shell": image_section.get("Shell") or None}


# -- the rules ------------------------------------------------------------------------------

def reset(state: State, c: Container) -> None:
    """A (re)started container with a check starts over: starting, no failing streak; the
    log stays (docker's initHealthMonitor)."""
    if probe_args(of(c)) is not None:
        state.health_status = STARTING
        state.health_failing_streak = 0


def record(state: State, hc: Mapping[str, Any], result: Result) -> None:
    """Add a probe's result to the state, docker's rules (daemon/health.go)."""
    state.health_log = [*state.health_log, dict(result)][-MAX_LOG:]
    if result["ExitCode"] == 0:
        state.health_failing_streak = 0
        state.health_status = HEALTHY
        return
    if state.health_status == STARTING and state.started_at:
        period = int(hc.get("StartPeriod") or DEFAULT_START_PERIOD)
        since_start = (parse_rfc3339_nano(result["Start"]) -
                       parse_rfc3339_nano(_zulu(state.started_at)))
        if since_start < period:
            return  # still starting: the failure does not count
    state.health_failing_streak += 1
    if state.health_failing_streak >= (int(hc.get("Retries") or 0) or DEFAULT_RETRIES):
        state.health_status = UNHEALTHY


def status_of(state: State) -> str:
    """The ps filter's and the status line's view: "none" without a check's state."""
    return state.health_status or NONE


def status_line(state: State) -> str:
    """docker ps's part in parentheses after "Up ...": "healthy", "health: starting"."""
    return "health: starting" if state.health_status == STARTING else state.health_status


def inspect_state(state: State) -> dict[str, Any]:
    if not state.health_status:
        return {}
    return {"Health": {"Status": state.health_status,
                       "FailingStreak": state.health_failing_streak,
                       "Log": list(state.health_log)}}


def _zulu(stamp: str) -> str:
    return stamp if stamp.endswith("Z") else stamp + "Z"


class _Output:
    """A probe's stdout and stderr together, up to MAX_OUTPUT bytes ("..." when cut)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        keep = MAX_OUTPUT - len(self.data)
        if keep > 0:
            self.data += chunk[:keep]
        if len(chunk) > keep:
            self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", "replace") + ("..." if self.truncated else "")


# -- the monitors ---------------------------------------------------------------------------

class HealthMonitors:
    """One probing task per running container with a check, on the daemon's loop."""

    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, c: Container) -> None:
        """Probe `c` from now on (after start, or after reconnecting to its shim)."""
        hc = of(c)
        args = probe_args(hc, c.config.get("image_shell"))
        if hc is None or args is None:
            return
        self.unwatch(c.id)
        task = asyncio.create_task(self._run(c.id, hc, args))
        self.tasks[c.id] = task
        task.add_done_callback(functools.partial(self._done, c.id))

    def _done(self, cid: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(cid) is task:
            del self.tasks[cid]

    def unwatch(self, cid: str) -> None:
        task = self.tasks.pop(cid, None)
        if task is not None:
            task.cancel()

    def close(self) -> None:
        for cid in list(self.tasks):
            self.unwatch(cid)

    async def _run(self, cid: str, hc: dict[str, Any], args: list[str]) -> None:
        interval = int(hc.get("Interval") or DEFAULT_INTERVAL) / SECOND
        timeout = int(hc.get("Timeout") or DEFAULT_TIMEOUT)
        while True:
            await asyncio.sleep(interval)
            try:
                c = await asyncio.to_thread(self.service.repo.get, cid)
            except NotFound:
                return
            if c.state.status != RUNNING:
                return
            if c.state.paused:  # docker stops probing a paused container
                continue
            result = await self.probe(cid, args, timeout)
            try:
                change = functools.partial(record, hc=hc, result=result)
                before, after = await asyncio.to_thread(self.service.repo.update_health, cid,
                                                        change)
            except NotFound:
                return
            if after != before:
                self.service.events.publish("container", f"health_status: {after}", cid,
                                            **event_attributes(c))

    async def probe(self, cid: str, args: list[str], timeout_ns: int) -> Result:
        """Run the probe once: its exit code and output, or -1 and why."""
        start = time.time_ns()
        output = _Output()
        try:
            proc, subscriber = await self.service.exec_start(
                cid, execs.ExecOptions(args=list(args), env=[]))
        except EngineError as err:
            return _result(start, -1, str(err))
        assert subscriber is not None  # not detached

        async def collect() -> int:
            while (item := await subscriber.get()) is not None:
                output.add(item[1])
            return await proc.exit_code()

        try:
            code = await asyncio.wait_for(collect(), timeout_ns / SECOND)
        except TimeoutError:
            subscriber.close()
            with contextlib.suppress(EngineError):
                await proc.shim.kill(signal.SIGKILL, exec_id=proc.exec_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.exit_code(), KILL_WAIT)
            return _result(start, -1, "Health check exceeded timeout "
                                      f"({go_duration_text(timeout_ns)})")
        finally:
            subscriber.close()
        return _result(start, code, output.text())


def _result(start: int, code: int, output: str) -> Result:
    return Result(Start=go_stamp(start), End=go_stamp(time.time_ns()), ExitCode=code,
                  Output=output)


def go_stamp(time_nano: int) -> str:
    """Go's RFC3339Nano, as docker's inspect shows times: no trailing zeros in the fraction."""
    whole, _, fraction = rfc3339_nano(time_nano).rstrip("Z").partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"
