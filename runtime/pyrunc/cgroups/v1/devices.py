"""v1 devices controller.

The kernel keeps a default (allow or deny) plus exceptions, and ``devices.list`` shows the
exceptions when the default is deny. The target state is computed from the rules (OCI order,
last match wins, starting from deny-all). When both the current and the target state deny by
default, only the differences are written, so a running container never loses access to a
device it keeps (``pyrunc update``); otherwise the default is reset first (``a`` to
devices.deny or devices.allow) and the exceptions are written after it.
"""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.cgroups.devices import Rule, is_wildcard

Key = tuple[str, int, int]
"""(type, major, minor); -1 = any."""


def emulate(rules: list[Rule]) -> tuple[bool, dict[Key, str]]:
    """(default allows?, {key: access}) after applying ``rules`` to a deny-all start."""
    default_allow = False
    exceptions: dict[Key, set[str]] = {}
    for rule in rules:
        allow, kind, major, minor, access = rule
        if is_wildcard(rule):
            default_allow = allow
            exceptions.clear()
            continue
        keys = [("c", -1, -1), ("b", -1, -1)] if kind == "a" else [(kind, major, minor)]
        for key in keys:
            if allow != default_allow:
                exceptions.setdefault(key, set()).update(access)
            elif key in exceptions:
                exceptions[key].difference_update(access)
                if not exceptions[key]:
                    del exceptions[key]
    return default_allow, {key: _access(chars) for key, chars in exceptions.items()}


def _access(chars: set[str] | str) -> str:
    return "".join(ch for ch in "rwm" if ch in chars)


def _line(key: Key, access: str) -> str:
    kind, major, minor = key
    return (f"{kind} {'*' if major < 0 else major}:{'*' if minor < 0 else minor} {access}")


def parse_list(text: str) -> tuple[bool, dict[Key, str]]:
    """devices.list → (default allows?, exceptions). With an allow default the kernel shows
    only ``a *:* rwm`` and its deny exceptions are not visible."""
    exceptions: dict[Key, str] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        kind, numbers, access = fields
        if kind == "a":
            return True, {}
        major, _, minor = numbers.partition(":")
        key = (kind, -1 if major == "*" else int(major), -1 if minor == "*" else int(minor))
        exceptions[key] = _access(set(exceptions.get(key, "")) | set(access))
    return False, exceptions


def apply_rules(path: str, rules: list[Rule]) -> None:
    """Bring ``path``'s device access to what ``rules`` describe."""
    target_allow, target = emulate(rules)
    current_allow, current = parse_list(fs.read(path, "devices.list"))
    if not target_allow and not current_allow:
        for key, access in current.items():
            extra = _access(set(access) - set(target.get(key, "")))
            if extra:
                fs.write(path, "devices.deny", _line(key, extra))
        for key, access in target.items():
            missing = _access(set(access) - set(current.get(key, "")))
            if missing:
                fs.write(path, "devices.allow", _line(key, missing))
        return
    fs.write(path, "devices.allow" if target_allow else "devices.deny", "a")
    name = "devices.deny" if target_allow else "devices.allow"
    for key, access in target.items():
        fs.write(path, name, _line(key, access))
