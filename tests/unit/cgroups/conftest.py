"""Fixtures for the cgroup unit tests."""

from __future__ import annotations

import pytest
from pyrunc.cgroups import fs


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every fs.write as (file name, value), in order; the write still happens."""
    recorded: list[tuple[str, str]] = []
    real = fs.write

    def recording(directory: str, name: str, value: str | int) -> None:
        recorded.append((name, str(value)))
        real(directory, name, value)

    monkeypatch.setattr(fs, "write", recording)
    return recorded
