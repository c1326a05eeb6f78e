"""Go's time.ParseDuration, for HEALTHCHECK's --interval/--timeout/--start-period/...

Docker parses these with Go's syntax ("1m30s", "1.5h", "300ms"); the value in the image config is
nanoseconds.
"""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Nanoseconds; ValueError with Go's text ("time: invalid duration \"x\"")."""
    invalid = ValueError(f'time: invalid duration "{text}"')
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    if not body:
        raise invalid
    total = 0
    pos = 0
    while pos < len(body):
        match = _PART.match(body, pos)
        if match is None or (not match.group(1) and not match.group(2)):
            if match is not None or not body[pos:].lstrip("0123456789."):
                raise ValueError(f'time: missing unit in duration "{text}"')
            raise invalid
        whole, frac, unit = match.group(1) or "0", match.group(2) or "", match.group(3)
        scale = _UNITS[unit]
        total += int(whole) * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = match.end()
    return sign * total
