"""The HEALTHCHECK instruction (commit/import --change; the builder may use it too): its
words to docker's image config Healthcheck, with docker's rules and error texts.

    HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command
    HEALTHCHECK NONE

CMD in JSON form gives ["CMD", arg...], in shell form ["CMD-SHELL", "command"]; durations are
Go's ("30s", "1m30s") in ns, none below 1ms; retries at least 1; an unset option is left out.
"""

from __future__ import annotations

from typing import Any

from pyengine.errors import InvalidArgument
from pyengine.timevalues import go_duration, go_duration_error

FLAGS = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod"}
MINIMUM_DURATION = 1_000_000  # 1ms


def parse_instruction(value: str) -> dict[str, Any]:
    """The Healthcheck of `HEALTHCHECK <value>`."""
    rest = value.strip()
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        word, _, rest = _split(rest)
        name, eq, flag_value = word[2:].partition("=")
        if name not in (*FLAGS, "retries"):
            raise InvalidArgument(f"Unknown flag: {name}")
        if not eq:
            raise InvalidArgument(f"Missing a value on flag: {name}")
        flags[name] = flag_value
    if not rest:
        raise InvalidArgument("HEALTHCHECK requires at least one argument")
    kind, _, args = _split(rest)
    kind = kind.upper()
    if kind == "NONE":
        if args or flags:
            raise InvalidArgument("HEALTHCHECK NONE takes no arguments")
        return {"Test": ["NONE"]}
    if kind != "CMD":
        raise InvalidArgument(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    test = _command(args)
    out: dict[str, Any] = {"Test": test}
    for name, key in FLAGS.items():
        if flags.get(name):
            out[key] = _interval(name, flags[name])
    if flags.get("retries"):
        try:
            retries = int(flags["retries"], 10)
        except ValueError:
            raise InvalidArgument(f'strconv.ParseInt: parsing "{flags["retries"]}": invalid '
                                  "syntax") from None
        if retries < 1:
            raise InvalidArgument(f"--retries must be at least 1 (not {retries})")
        out["Retries"] = retries
    return out


def _split(text: str) -> tuple[str, str, str]:
    """The first word, a space, and the rest with its leading blanks removed."""
    parts = text.split(None, 1)
    return parts[0], " ", (parts[1].lstrip() if len(parts) > 1 else "")


def _command(args: str) -> list[str]:
    from pyengine.images.importer import json_form

    words = json_form(args)
    if words is not None:
        if not words:
            raise InvalidArgument("Missing command after HEALTHCHECK CMD")
        return ["CMD", *words]
    if not args.strip():
        raise InvalidArgument("Missing command after HEALTHCHECK CMD")
    return ["CMD-SHELL", args.strip()]


def _interval(name: str, text: str) -> int:
    value = go_duration(text)
    if value is None:
        raise InvalidArgument(go_duration_error(text))
    if value < MINIMUM_DURATION:
        raise InvalidArgument(f'Interval "{name}" cannot be less than 1ms')
    return value
