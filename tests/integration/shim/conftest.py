"""Shim integration tests: containerd's own shim and our ttrpc, as root."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A private directory for bundles and sockets (short path: unix socket names are short)."""
    path = Path(tempfile.mkdtemp(prefix="ttrpc-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
