"""docker's --since/--until values (logs, events): a Go duration ago ("10s", "1h30m",
"500ms"), unix seconds with an optional fraction, or an RFC 3339 date or date-time, the zone
optional (local time then) and the time cut at any field ("2020-01-01", "2020-01-01T10:04")."""

from __future__ import annotations

import re
from datetime import datetime

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}
_UNIX = re.compile(r"(\d+)(?:\.(\d{1,9}))?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?")


class BadTimestamp(ValueError):
    """The value is none of docker's forms."""


def _duration_ns(text: str) -> int | None:
    """Go's time.ParseDuration for a non-negative value, None when `text` is not one."""
    if not text or text == "0":
        return None
    at, total = 0, 0.0
    while at < len(text):
        match = _DURATION.match(text, at)
        if match is None:
            return None
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        at = match.end()
    return int(total)


def _date_ns(text: str) -> int | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    try:
        if zone is None:
            when = datetime.fromisoformat(stamp).astimezone()  # local time, as docker
        else:
            when = datetime.fromisoformat(stamp + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return int(when.timestamp()) * 10**9 + int((fraction or "0").ljust(9, "0"))


def parse(text: str, now_ns: int) -> int:
    """Nanoseconds since the epoch that `text` names (0 for ""); BadTimestamp otherwise."""
    if not text:
        return 0
    ago = _duration_ns(text)
    if ago is not None:
        return now_ns - ago
    unix = _UNIX.fullmatch(text)
    if unix is not None:
        return int(unix.group(1)) * 10**9 + int((unix.group(2) or "0").ljust(9, "0"))
    when = _date_ns(text)
    if when is None:
        raise BadTimestamp(f'failed to parse value as time or duration: "{text}"')
    return when
