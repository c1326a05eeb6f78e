"""docker's --device-cgroup-rule ("c 1:3 mr", "a *:* rwm") as OCI device cgroup rules.

The format is dockerd's, checked as strictly: a type (a, b or c), a space, major:minor (each a
number or *), a space, one to three of r, w and m; nothing else, no extra spaces. A `*` is the
OCI rule's absent number (any); access letters are kept once each, in order (the kernel reads
them as a set). A number past the kernel's device numbers (12-bit major, 20-bit minor) is
refused with docker's text for a value it cannot parse.
"""

from __future__ import annotations

from pyengine.bundles.errors import InvalidContainerConfig

TYPES = ("a", "b", "c")
ACCESS = ("r", "w", "m")
MAJOR_MAX = (1 << 12) - 1
MINOR_MAX = (1 << 20) - 1


def _number(text: str) -> int | None:
    """A rule's major or minor: None for `*`; -1 for what is not a number."""
    if text == "*":
        return None
    return int(text) if text.isascii() and text.isdigit() else -1


def parse_rule(rule: str) -> dict:
    """One rule as an OCI linux.resources.devices entry (allow); InvalidContainerConfig with
    docker's texts."""
    parts = rule.split(" ")
    numbers = parts[1].split(":") if len(parts) == 3 else []
    access = parts[2] if len(parts) == 3 else ""
    if len(numbers) != 2 or parts[0] not in TYPES or not 1 <= len(access) <= 3 \
            or not set(access) <= set(ACCESS):
        raise InvalidContainerConfig(f"invalid device cgroup rule format: '{rule}'")
    major, minor = (_number(n) for n in numbers)
    if major == -1 or minor == -1:
        raise InvalidContainerConfig(f"invalid device cgroup rule format: '{rule}'")
    out: dict = {"allow": True, "type": parts[0], "access": "".join(dict.fromkeys(access))}
    for name, value, limit in (("major", major, MAJOR_MAX), ("minor", minor, MINOR_MAX)):
        if value is not None and value > limit:
            raise InvalidContainerConfig(f"invalid {name} value in device cgroup rule "
                                         f"format: '{rule}'")
        if value is not None:
            out[name] = value
    return out
