"""Human-readable sizes and durations, formatted the way docker's CLI prints them."""

from __future__ import annotations

import time

_DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]


def _scaled(size: float, base: float, names: list[str], precision: int) -> str:
    unit = 0
    while size >= base and unit < len(names) - 1:
        size /= base
        unit += 1
    return f"{size:.{precision}g}{names[unit]}"


def human_size(size: float, precision: int = 3) -> str:
    """Decimal units with 3 significant digits: 4261056 -> "4.26MB" (go-units HumanSize)."""
    return _scaled(size, 1000.0, _DECIMAL_UNITS, precision)


BAR_WIDTH = 50


def progress_bar(current: int, total: int) -> str:
    """docker's progress text (jsonmessage's JSONProgress.String, no terminal width, which the
    daemon sends as "progress" and the CLI draws): "[=====>     ]  1.234MB/4.567MB"."""
    if total <= 0:
        return f"{human_size(current, 4):>8}"
    percentage = min(BAR_WIDTH, int(current / total * 100) // 2)
    bar = f"[{'=' * percentage}>{' ' * (BAR_WIDTH - percentage)}] "
    if current > total:
        return bar + f"{human_size(current, 4):>8}"
    return bar + f"{human_size(current, 4):>8}/{human_size(total, 4)}"


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: "Less than a second", "2 weeks", "3 months"..."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(epoch: int, now: float | None = None) -> str:
    """"N units ago" for a creation time; "N/A" when unknown."""
    if epoch <= 0:
        return "N/A"
    return human_duration((now if now is not None else time.time()) - epoch) + " ago"


def created_at(epoch: int) -> str:
    """docker's CreatedAt: "2024-01-02 03:04:05 +0000 UTC"."""
    if epoch <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(epoch))


_BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]


def bytes_size(size: float) -> str:
    """Binary units with 4 significant digits: 1458176 -> "1.391MiB" (go-units BytesSize)."""
    return _scaled(size, 1024.0, _BINARY_UNITS, 4)


def ram_in_bytes(text: str) -> int:
    """docker's memory sizes (go-units RAMInBytes): a number with an optional binary suffix,
    "b", "k", "m", "g", "t", "p", with an optional "i" and "b": 100m, 1.5GiB, 512kb."""
    raw = text.strip().lower()
    number = raw.rstrip("bikmgtp ")
    suffix = raw[len(number):].strip()
    if suffix.endswith("b"):
        suffix = suffix[:-1]
    if suffix.endswith("i"):
        suffix = suffix[:-1]
    multipliers = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
    if suffix not in multipliers or not number:
        raise ValueError(f"invalid size: '{text}'")
    value = float(number)
    if value < 0:
        raise ValueError(f"invalid size: '{text}'")
    return int(value * multipliers[suffix])
