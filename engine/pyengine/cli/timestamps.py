"""docker's --since/--until values: Go durations before now ("10m", "1h30m", "1.5h"), unix
seconds[.nanoseconds], or dates and times (RFC 3339 with or without fraction and offset,
"2006-01-02T15:04:05", "2006-01-02"; the client's local zone when none is given)."""

from __future__ import annotations

import time

from pyengine.cli.context import CliError

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


def parse(text: str, flag: str, now_ns: int | None = None) -> int:
    """Nanoseconds since the epoch; 0 for an empty value."""
    if not text:
        return 0
    now = time.time_ns() if now_ns is None else now_ns
    duration = go_duration(text)
    if duration is not None:
        return now - duration
    seconds, dot, fraction = text.partition(".")
    if seconds.isdigit() and (not dot or fraction.isdigit()):
        return int(seconds) * 1_000_000_000 + int((fraction + "0" * 9)[:9] or 0)
    stamp = _date(text)
    if stamp is None:
        # docker logs --since bogus -> exit 1, printed bare: invalid value for "since":
        # failed to parse value as time or duration: "bogus"
        # docker events --since bogus -> exit 1: failed to parse value as time or duration:
        # "bogus" (flag "": no "invalid value for")
        where = f'invalid value for "{flag}": ' if flag else ""
        raise CliError(f'{where}failed to parse value as time or duration: "{text}"',
                       prefix="")
    return stamp


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


def rfc3339_nano_fixed(time_nano: int) -> str:
    """Go's "2006-01-02T15:04:05.000000000Z07:00" in the local zone (docker events' stamp)."""
    from datetime import datetime

    moment = datetime.fromtimestamp(time_nano // 1_000_000_000).astimezone()
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    zone = "Z" if minutes == 0 else \
        f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{time_nano % 1_000_000_000:09d}{zone}"
