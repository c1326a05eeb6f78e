"""docker's health checks without a daemon: the check a container gets (image HEALTHCHECK and
--health-* merged field by field), the rules that turn probe results into a status
(moby daemon/health.go), the HEALTHCHECK instruction of --change, and the run/create flags
with docker's client messages."""

from __future__ import annotations

import argparse

import pytest
from pyengine.cli import container_opts, health_opts
from pyengine.cli.context import CliError
from pyengine.containers import health
from pyengine.containers.logs import rfc3339_nano
from pyengine.containers.model import Container, Spec, State
from pyengine.errors import InvalidArgument
from pyengine.images.healthcheck import parse_instruction
from pyengine.timevalues import go_duration_text

MS = 1_000_000
IMAGE = {"Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5000 * MS, "Retries": 4}}


def test_create_options_override_the_image_check_field_by_field() -> None:
    assert health.merged(IMAGE, Spec()) == IMAGE["Healthcheck"]
    assert health.merged({}, Spec()) is None
    assert health.merged(IMAGE, Spec(health_interval_ns=200 * MS)) == {
        "Test": ["CMD-SHELL", "true"], "Interval": 200 * MS, "Retries": 4}
    assert health.merged(IMAGE, Spec(health_cmd=["CMD-SHELL", "false"])) == {
        "Test": ["CMD-SHELL", "false"], "Interval": 5000 * MS, "Retries": 4}
    # --no-healthcheck: Test NONE, the image's other fields kept (docker's merge)
    assert health.merged(IMAGE, Spec(no_healthcheck=True)) == {
        "Test": ["NONE"], "Interval": 5000 * MS, "Retries": 4}
    # an interval alone, on an image without a check: kept, but nothing to probe
    only = health.merged({}, Spec(health_interval_ns=MS))
    assert only == {"Interval": MS} and health.probe_args(only) is None


def test_the_daemon_refuses_what_docker_refuses() -> None:
    with pytest.raises(InvalidArgument, match=r"^Interval in Healthcheck cannot be less than 1ms$"):
        health.merged({}, Spec(health_cmd=["CMD-SHELL", "x"], health_interval_ns=999_999))
    with pytest.raises(InvalidArgument, match=r"^Timeout in Healthcheck cannot be less than 1ms$"):
        health.merged({}, Spec(health_timeout_ns=-1))
    with pytest.raises(InvalidArgument, match=r"^Retries in Healthcheck cannot be negative$"):
        health.merged({}, Spec(health_retries=-1))


def test_probe_commands() -> None:
    assert health.probe_args({"Test": ["CMD", "cat", "/x"]}) == ["cat", "/x"]
    assert health.probe_args({"Test": ["CMD-SHELL", "a && b"]}) == ["/bin/sh", "-c", "a && b"]
    assert health.probe_args({"Test": ["CMD-SHELL", "a"]}, ["/bin/ash", "-ec"]) == [
        "/bin/ash", "-ec", "a"]
    for none in (None, {}, {"Test": ["NONE"]}, {"Test": ["BOGUS", "x"]}, {"Test": ["CMD"]}):
        assert health.probe_args(none) is None


def _state(started_ns: int) -> State:
    s = State(status="running", started_at=rfc3339_nano(started_ns))
    c = Container(id="c", name="n", image_id="", image_name="", snapshot="", created="",
                  spec=Spec(), state=s, config={"healthcheck": {"Test": ["CMD", "x"]}})
    health.reset(s, c)
    return s


def _result(at_ns: int, code: int) -> health.Result:
    return health.Result(Start=rfc3339_nano(at_ns), End=rfc3339_nano(at_ns + 1), ExitCode=code,
                         Output="")


def test_status_rules() -> None:
    t0 = 1_700_000_000 * 10**9
    s = _state(t0)
    assert (s.health_status, s.health_failing_streak) == ("starting", 0)
    hc = {"Retries": 2}
    health.record(s, hc, _result(t0 + 1, 1))
    assert (s.health_status, s.health_failing_streak) == ("starting", 1)
    health.record(s, hc, _result(t0 + 2, 0))  # the first success: healthy, streak reset
    assert (s.health_status, s.health_failing_streak) == ("healthy", 0)
    health.record(s, hc, _result(t0 + 3, 2))  # any non-zero code is a failure
    assert (s.health_status, s.health_failing_streak) == ("healthy", 1)
    health.record(s, hc, _result(t0 + 4, -1))
    assert (s.health_status, s.health_failing_streak) == ("unhealthy", 2)
    for i in range(5):
        health.record(s, hc, _result(t0 + 5 + i, 1))
    assert len(s.health_log) == health.MAX_LOG  # the last five, oldest first
    assert s.health_log[0]["Start"] == rfc3339_nano(t0 + 5)
    assert health.status_line(s) == "unhealthy" and health.status_of(State()) == "none"


def test_failures_within_the_start_period_do_not_count_while_starting() -> None:
    t0 = 1_700_000_000 * 10**9
    s = _state(t0)
    hc = {"StartPeriod": 10 * 10**9, "Retries": 1}
    health.record(s, hc, _result(t0 + 10**9, 1))
    assert (s.health_status, s.health_failing_streak, len(s.health_log)) == ("starting", 0, 1)
    assert health.status_line(s) == "health: starting"
    health.record(s, hc, _result(t0 + 11 * 10**9, 1))  # after it: counts
    assert (s.health_status, s.health_failing_streak) == ("unhealthy", 1)


def test_output_is_cut_at_4096_bytes_with_dots() -> None:
    out = health._Output()
    out.add(b"a" * 4000)
    out.add(b"b" * 200)
    assert out.text() == "a" * 4000 + "b" * 96 + "..."


def test_healthcheck_instruction() -> None:
    assert parse_instruction("CMD curl -f http://x/ || exit 1") == {
        "Test": ["CMD-SHELL", "curl -f http://x/ || exit 1"]}
    assert parse_instruction('--interval=200ms --timeout=3s --start-period=1m --retries=5 '
                             'CMD ["cat", "/ok"]') == {
        "Test": ["CMD", "cat", "/ok"], "Interval": 200 * MS, "Timeout": 3000 * MS,
        "StartPeriod": 60_000 * MS, "Retries": 5}
    assert parse_instruction("none") == {"Test": ["NONE"]}
    errors = {
        "NONE x": "HEALTHCHECK NONE takes no arguments",
        "RUN x": 'Unknown type "RUN" in HEALTHCHECK (try CMD)',
        "CMD": "Missing command after HEALTHCHECK CMD",
        "--retries=0 CMD x": "--retries must be at least 1 (not 0)",
        "--interval=0.5ms CMD x": 'Interval "interval" cannot be less than 1ms',
        "--interval=5 CMD x": 'time: missing unit in duration "5"',
        "--interval=x CMD x": 'time: invalid duration "x"',
        "--bogus=1 CMD x": "Unknown flag: bogus",
    }
    for text, message in errors.items():
        with pytest.raises(InvalidArgument) as caught:
            parse_instruction(text)
        assert str(caught.value) == message


def test_times_are_gos_rfc3339nano() -> None:
    t = 1_700_000_000 * 10**9
    assert health.go_stamp(t + 346_612_900) == "2023-11-14T22:13:20.3466129Z"
    assert health.go_stamp(t) == "2023-11-14T22:13:20Z"


def test_go_duration_text() -> None:
    cases = {0: "0s", 30 * 10**9: "30s", 200 * MS: "200ms", 1500 * MS: "1.5s",
             90 * 10**9: "1m30s", 7200 * 10**9: "2h0m0s", 1500: "1.5µs"}
    for ns, text in cases.items():
        assert go_duration_text(ns) == text


def _values(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    container_opts.add(parser)
    return health_opts.values(parser.parse_args([*argv, "busybox"]))


def test_flags() -> None:
    assert _values("--health-cmd", "curl x", "--health-interval", "1m30s",
                   "--health-retries", "2") == {
        "health_cmd": ["CMD-SHELL", "curl x"], "health_interval_ns": 90 * 10**9,
        "health_timeout_ns": 0, "health_start_period_ns": 0, "health_retries": 2}
    assert _values("--no-healthcheck") == {"no_healthcheck": True}
    errors = {
        ("--no-healthcheck", "--health-cmd", "x"):
            "--no-healthcheck conflicts with --health-* options",
        ("--health-interval=-1s",): "--health-interval cannot be negative",
        ("--health-timeout=-1s",): "--health-timeout cannot be negative",
        ("--health-start-period=-1s",): "--health-start-period cannot be negative",
        ("--health-retries=-1",): "--health-retries cannot be negative",
        ("--health-interval", "x"):
            'invalid argument "x" for "--health-interval" flag: time: invalid duration "x"',
        ("--health-timeout", "5"):
            'invalid argument "5" for "--health-timeout" flag: time: missing unit in '
            'duration "5"',
    }
    for argv, message in errors.items():
        with pytest.raises(CliError) as caught:
            _values(*argv)
        assert str(caught.value) == message
