"""ttrpc unit tests: our client against our server over unix sockets in a private directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def sock_path() -> Iterator[str]:
    """A socket path short enough for sun_path, in a directory removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="ttrpc-"))
    try:
        yield str(directory / "s.sock")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
