"""Go's time.ParseDuration, for HEALTHCHECK's --interval/--timeout/--start-period/...

Docker parses these with Go's syntax ("1m30s", "1.5h", "300ms"); the value in the image config is
nanoseconds.
"""

from __future__ import annotations

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
_NUMBER = "0123456789."


def _digits(text: str) -> int:
    n = 0
    while n < len(text) and text[n].isdigit():
        n += 1
    return n


def parse_duration(text: str) -> int:
    """Nanoseconds; ValueError with Go's texts (`time: invalid duration "x"`, ...)."""
    quoted = f'"{text}"'
    s = text
    sign = -1 if s.startswith("-") else 1
    s = s[1:] if s[:1] in ("+", "-") else s
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0
    while s:
        if s[0] not in _NUMBER:
            raise ValueError(f"time: invalid duration {quoted}")
        i = _digits(s)
        whole, s = s[:i], s[i:]
        frac = ""
        if s.startswith("."):
            j = _digits(s[1:])
            frac, s = s[1 : 1 + j], s[1 + j :]
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {quoted}")
        k = 0
        while k < len(s) and s[k] not in _NUMBER:
            k += 1
        if k == 0:
            raise ValueError(f"time: missing unit in duration {quoted}")
        unit, s = s[:k], s[k:]
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration {quoted}')
        scale = _UNITS[unit]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
    return sign * total
