"""v1 devices controller: deny-all first, then each rule in order (the last match wins)."""

from __future__ import annotations

from pyrunc.cgroups import fs
from pyrunc.cgroups.devices import Rule, is_wildcard, v1_line


def apply_rules(path: str, rules: list[Rule]) -> None:
    """Write ``rules`` to ``path``; writing ``a`` resets the default and clears exceptions."""
    fs.write(path, "devices.deny", "a")
    for rule in rules:
        allow = rule[0]
        name = "devices.allow" if allow else "devices.deny"
        if rule[1] == "a" and not is_wildcard(rule):
            # "a" with partial access is not expressible in v1 except as a wildcard line.
            fs.write(path, name, f"c *:* {rule[4]}")
            fs.write(path, name, f"b *:* {rule[4]}")
            continue
        fs.write(path, name, v1_line(rule))
