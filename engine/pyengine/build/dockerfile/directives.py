"""Parser directives (`# syntax=...`, `# escape=...`) at the top of a Dockerfile.

Docker's rules: directives are `#` comments of the form `# key=value` (key case-insensitive,
spaces allowed around `=`) that come before any instruction, other comment or blank line; the
first line that is not one ends them for good. An unknown key ends them too (the line is then an
ordinary comment). Each directive may appear once. `escape` is `\\` or a backtick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_KNOWN = ("syntax", "escape", "check")


class DirectiveError(ValueError):
    """A directive docker rejects (repeated, or an invalid escape token)."""


@dataclass
class Directives:
    """The directive state while the lines are read: feed each line to `line()`."""

    escape: str = "\\"
    syntax: str | None = None
    check: str | None = None
    done: bool = False
    _seen: tuple[str, ...] = ()

    def line(self, text: str) -> bool:
        """Consider one physical line (newline removed); True if it was a directive."""
        if self.done:
            return False
        if not text.startswith("#"):
            self.done = True
            return False
        match = _DIRECTIVE.match(text[1:].lstrip())
        if match is None or match.group(1).lower() not in _KNOWN:
            self.done = True
            return False
        key, value = match.group(1).lower(), match.group(2)
        if key in self._seen:
            raise DirectiveError(f"only one {key} parser directive can be used")
        self._seen = (*self._seen, key)
        if key == "escape":
            if value not in ("`", "\\"):
                raise DirectiveError(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
        elif key == "syntax":
            self.syntax = value
        else:
            self.check = value
        return True
