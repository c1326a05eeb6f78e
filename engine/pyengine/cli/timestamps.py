"""docker's --since/--until values: Go durations before now ("10m", "1h30m", "1.5h"), unix
seconds[.nanoseconds], or dates and times (RFC 3339 with or without fraction and offset,
"2006-01-02T15:04:05", "2006-01-02"; the client's local zone when none is given)."""

from __future__ import annotations

from pyengine.cli.context import CliError
from pyengine.timevalues import go_duration, to_ns

__all__ = ["go_duration", "parse", "rfc3339_nano_fixed"]


def parse(text: str, flag: str, now_ns: int | None = None) -> int:
    """Nanoseconds since the epoch; 0 for an empty value."""
    if not text:
        return 0
    stamp = to_ns(text, now_ns)
    if stamp is None:
        # docker logs --since bogus -> exit 1, printed bare: invalid value for "since":
        # failed to parse value as time or duration: "bogus"
        # docker events --since bogus -> exit 1: failed to parse value as time or duration:
        # "bogus" (flag "": no "invalid value for")
        where = f'invalid value for "{flag}": ' if flag else ""
        raise CliError(f'{where}failed to parse value as time or duration: "{text}"',
                       prefix="")
    return stamp


def rfc3339_nano_fixed(time_nano: int) -> str:
    """Go's "2006-01-02T15:04:05.000000000Z07:00" in the local zone (docker events' stamp)."""
    from datetime import datetime

    moment = datetime.fromtimestamp(time_nano // 1_000_000_000).astimezone()
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    zone = "Z" if minutes == 0 else \
        f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{time_nano % 1_000_000_000:09d}{zone}"
