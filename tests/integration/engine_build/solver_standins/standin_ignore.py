"""TEST-ONLY stand-in for build/ignore.py: exact names and fnmatch patterns."""

from __future__ import annotations

import fnmatch


class IgnoreMatcher:
    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns

    @classmethod
    def parse(cls, text: str) -> IgnoreMatcher:
        return cls([line.strip().strip("/") for line in text.splitlines()
                    if line.strip() and not line.startswith("#")])

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        return any(fnmatch.fnmatch(relpath, p) for p in self.patterns)

    def may_include_under(self, reldir: str) -> bool:
        return False
