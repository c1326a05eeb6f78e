"""The project's config.json schema check (pyrunc.spec.schema_check), usable on any runtime's
output: imported from this checkout's runtime/ directory."""

from __future__ import annotations

import sys
from typing import Any

from .runtime import REPO


def validate_config(config: dict[str, Any]) -> list[str]:
    runtime_root = str(REPO / "runtime")
    if runtime_root not in sys.path:
        sys.path.insert(0, runtime_root)
    from pyrunc.spec.schema_check import validate

    return [str(p) for p in validate(config)]
