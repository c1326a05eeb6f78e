"""Device cgroup rules shared by v1 (devices.allow/deny) and v2 (eBPF program).

A rule is ``(allow, type, major, minor, access)`` with type ``a``/``c``/``b``, major/minor
``-1`` for "any" and access a subset of ``rwm``. OCI rules apply in order, the last match wins,
and the list starts from deny-all (runc treats the rule list as a whitelist).
"""

from __future__ import annotations

from pyrunc.errors import CgroupError

Rule = tuple[bool, str, int, int, str]

DEFAULT_ALLOWED: tuple[Rule, ...] = (
    # runc 1.1's AllowedDevices, appended after the spec's own rules.
    (True, "c", -1, -1, "m"),
    (True, "b", -1, -1, "m"),
    (True, "c", 1, 3, "rwm"),    # /dev/null
    (True, "c", 1, 8, "rwm"),    # /dev/random
    (True, "c", 1, 7, "rwm"),    # /dev/full
    (True, "c", 5, 0, "rwm"),    # /dev/tty
    (True, "c", 1, 5, "rwm"),    # /dev/zero
    (True, "c", 1, 9, "rwm"),    # /dev/urandom
    (True, "c", 136, -1, "rwm"),  # /dev/pts/*
    (True, "c", 5, 2, "rwm"),    # /dev/ptmx
    (True, "c", 10, 200, "rwm"),  # /dev/net/tun
)


def _number(value: int | None) -> int:
    return -1 if value is None else int(value)


def normalize(entry: dict) -> Rule:
    """An OCI ``linux.resources.devices`` entry as a Rule."""
    kind = entry.get("type") or "a"
    access = entry.get("access") or "rwm"
    if kind not in ("a", "b", "c") or not access or set(access) - set("rwm"):
        raise CgroupError(f"cgroup: set devices: invalid rule {entry!r}")
    ordered = "".join(ch for ch in "rwm" if ch in access)
    if kind == "a":
        return (bool(entry.get("allow")), "a", -1, -1, ordered)
    return (bool(entry.get("allow")), kind, _number(entry.get("major")),
            _number(entry.get("minor")), ordered)


def container_rules(resource_devices: list | None, linux_devices: list | None = None,
                    defaults: bool = True) -> list[Rule]:
    """The full list runc applies: spec rules, its default allowed devices, then the spec's
    ``linux.devices`` nodes (each allowed rwm)."""
    rules = [normalize(entry) for entry in resource_devices or ()]
    if defaults:
        rules.extend(DEFAULT_ALLOWED)
    for node in linux_devices or ():
        kind = node.get("type")
        if kind == "u":
            kind = "c"
        if kind not in ("c", "b"):
            continue
        rules.append((True, kind, int(node["major"]), int(node["minor"]), "rwm"))
    return rules


def is_wildcard(rule: Rule) -> bool:
    """``a *:* rwm``: a rule that resets the default (allow-all or deny-all)."""
    _, kind, major, minor, access = rule
    return kind == "a" and major == -1 and minor == -1 and access == "rwm"


def v1_line(rule: Rule) -> str:
    """The devices.allow/devices.deny spelling: ``c 1:3 rwm``, ``a *:* rwm``."""
    _, kind, major, minor, access = rule
    if kind == "a":
        return "a"
    major_text = "*" if major < 0 else str(major)
    minor_text = "*" if minor < 0 else str(minor)
    return f"{kind} {major_text}:{minor_text} {access}"
