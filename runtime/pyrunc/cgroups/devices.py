"""Device cgroup rules shared by v1 (devices.allow/deny) and v2 (eBPF program).

A rule is ``(allow, type, major, minor, access)`` with type ``a``/``c``/``b``, major/minor
``-1`` for "any" and access a subset of ``rwm``. OCI rules apply in order, the last match wins,
and the list starts from deny-all (runc treats the rule list as a whitelist).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import DeviceRule

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


def normalize(entry: DeviceRule) -> Rule:
    """An OCI ``linux.resources.devices`` entry (type, access and numbers checked when the
    config was decoded) as a Rule: absent type is ``a``, absent access ``rwm``, absent
    major/minor ``-1`` (any)."""
    kind = entry.type or "a"
    access = entry.access if entry.access is not None else "rwm"
    ordered = "".join(ch for ch in "rwm" if ch in access)
    if kind == "a":
        return (entry.allow, "a", -1, -1, ordered)
    major = -1 if entry.major is None else entry.major
    minor = -1 if entry.minor is None else entry.minor
    return (entry.allow, kind, major, minor, ordered)


# the default rules runc 1.1 ties to a device path: one a spec's linux.devices node has too
# replaces (runc's createDevices drops the default, the spec's node takes priority)
DEFAULT_PATHS: dict[Rule, str] = {
    DEFAULT_ALLOWED[2]: "/dev/null", DEFAULT_ALLOWED[3]: "/dev/random",
    DEFAULT_ALLOWED[4]: "/dev/full", DEFAULT_ALLOWED[5]: "/dev/tty",
    DEFAULT_ALLOWED[6]: "/dev/zero", DEFAULT_ALLOWED[7]: "/dev/urandom",
}


def container_rules(resource_devices: list[DeviceRule] | None,
                    defaults: bool = True, device_paths: tuple[str, ...] = ()) -> list[Rule]:
    """The full list runc 1.1.5 applies: spec rules, then its default allowed devices, less
    those whose path is among the spec's ``linux.devices`` (`device_paths`). The spec's nodes
    get no rule of their own: they are usable as the spec's rules say (docker's ``--device
    /dev/null:/dev/null:r`` is read-only)."""
    rules = [normalize(entry) for entry in resource_devices or ()]
    if defaults:
        rules.extend(rule for rule in DEFAULT_ALLOWED
                     if DEFAULT_PATHS.get(rule) not in device_paths)
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
