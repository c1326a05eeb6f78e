"""docker's time values (daemon and client alike): Go durations before now ("10m", "1h30m",
"1.5h"), unix seconds[.nanoseconds], or dates and times (RFC 3339 with or without fraction and
offset, "2006-01-02T15:04:05", "2006-01-02"; the local zone when none is given)."""

from __future__ import annotations

import time

# Go's time.ParseDuration units, in nanoseconds
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}


def go_duration(text: str) -> int | None:
    """Nanoseconds of a Go duration ("1h30m", "1.5s", "-2m"), None if `text` is not one."""
    body = text[1:] if text[:1] in "+-" else text
    total, pos = 0.0, 0
    if not body:
        return None
    while pos < len(body):
        start = pos
        while pos < len(body) and (body[pos].isdigit() or body[pos] == "."):
            pos += 1
        number = body[start:pos]
        unit_start = pos
        while pos < len(body) and not (body[pos].isdigit() or body[pos] == "."):
            pos += 1
        unit = body[unit_start:pos]
        if not number or number.count(".") > 1 or number == "." or unit not in _UNITS:
            return None
        total += float(number) * _UNITS[unit]
    return int(-total if text.startswith("-") else total)


def to_ns(text: str, now_ns: int | None = None) -> int | None:
    """Nanoseconds since the epoch of a non-empty value; None if it is none of the forms."""
    now = time.time_ns() if now_ns is None else now_ns
    duration = go_duration(text)
    if duration is not None:
        return now - duration
    seconds, dot, fraction = text.partition(".")
    if seconds.isdigit() and (not dot or fraction.isdigit()):
        return int(seconds) * 1_000_000_000 + int((fraction + "0" * 9)[:9] or 0)
    return _date(text)


def _date(text: str) -> int | None:
    from datetime import datetime

    raw = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the client's zone, as docker
    whole = int(moment.timestamp())
    return whole * 1_000_000_000 + _nanos(raw)


def _nanos(raw: str) -> int:
    """The fraction of the seconds to nanoseconds (fromisoformat keeps microseconds)."""
    _, dot, rest = raw.partition(".")
    if not dot:
        return 0
    digits = ""
    for ch in rest:
        if not ch.isdigit():
            break
        digits += ch
    return int((digits + "0" * 9)[:9])


def go_duration_text(ns: int) -> str:
    """Go's time.Duration.String(): "30s", "200ms", "1.5s", "1m30s", "2h0m0s", "0s"."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:  # under a second: the largest unit that keeps a whole part
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _decimal(ns, size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _decimal(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _decimal(value: int, unit: int) -> str:
    """value/unit with Go's shortest fraction (no trailing zeros)."""
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    width = len(str(unit)) - 1
    return f"{whole}.{fraction:0{width}d}".rstrip("0")


def go_duration_error(text: str) -> str:
    """Go's time.ParseDuration error for a value go_duration refuses."""
    body = text.lstrip("+-")
    if body.replace(".", "", 1).isdigit() and body.strip("0."):
        return f'time: missing unit in duration "{text}"'
    return f'time: invalid duration "{text}"'
