"""Shared pytest configuration.

Unit tests (tests/unit) run without root and touch no kernel state. Integration tests
(tests/integration, spec-tests) are marked ``root`` and skipped when not root. Every module and
the session as a whole must leave the machine's own network as they found it
(tests/fixtures/hostnet.py; spec-tests/conftest.py uses the same guard).
"""

from __future__ import annotations

import os

import pytest

from tests.fixtures import hostnet

# autouse: each fails its module or the session when the machine's network changed
host_network_unchanged_by_session = hostnet.host_network_unchanged_by_session
host_network_unchanged_by_module = hostnet.host_network_unchanged_by_module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
