"""TEST-ONLY stand-in for build/dockerfile/expand.py: $A and ${A} only."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word)


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    return expand(text, env, escape).split()
