"""run/create's health check flags (docker's --health-* and --no-healthcheck) and the request
fields they make, checked as docker's client checks them."""

from __future__ import annotations

from pyengine.cli.context import CliError

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse
    from typing import Any

DURATION_FLAGS = (("health_interval", "--health-interval"),
                  ("health_timeout", "--health-timeout"),
                  ("health_start_period", "--health-start-period"))


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--health-cmd", default="", help="command to run to check health")
    p.add_argument("--health-interval", default="",
                   help="time between running the check (ms|s|m|h) (default 0s)")
    p.add_argument("--health-timeout", default="",
                   help="maximum time to allow one check to run (ms|s|m|h) (default 0s)")
    p.add_argument("--health-start-period", default="",
                   help="start period for the container to initialize before starting "
                        "health-retries countdown (ms|s|m|h) (default 0s)")
    p.add_argument("--health-retries", default="",
                   help="consecutive failures needed to report unhealthy")
    p.add_argument("--no-healthcheck", action="store_true",
                   help="disable any container-specified HEALTHCHECK")


def duration(text: str, flag: str) -> int:
    """A Go duration flag's value in ns, or pflag's error."""
    from pyengine.timevalues import go_duration, go_duration_error

    value = go_duration(text)
    if value is None:
        raise CliError(f'invalid argument "{text}" for "{flag}" flag: '
                       f"{go_duration_error(text)}", usage=True)
    return value


def values(args: argparse.Namespace) -> dict[str, Any]:
    """The request's health fields (docker's client: a check only when a flag asks)."""
    from pyengine.cli.container_opts import go_int

    ns = {attr: duration(getattr(args, attr), flag) if getattr(args, attr) else 0
          for attr, flag in DURATION_FLAGS}
    retries = go_int(args.health_retries, "--health-retries") if args.health_retries else 0
    settings = bool(args.health_cmd) or any(ns.values()) or retries != 0
    if args.no_healthcheck:
        if settings:
            raise CliError("--no-healthcheck conflicts with --health-* options", usage=True)
        return {"no_healthcheck": True}
    for attr, flag in DURATION_FLAGS[:2]:
        if ns[attr] < 0:
            raise CliError(f"{flag} cannot be negative", usage=True)
    if retries < 0:
        raise CliError("--health-retries cannot be negative", usage=True)
    if ns["health_start_period"] < 0:
        raise CliError("--health-start-period cannot be negative", usage=True)
    return {"health_cmd": ["CMD-SHELL", args.health_cmd] if args.health_cmd else [],
            "health_interval_ns": ns["health_interval"],
            "health_timeout_ns": ns["health_timeout"],
            "health_start_period_ns": ns["health_start_period"],
            "health_retries": retries}
