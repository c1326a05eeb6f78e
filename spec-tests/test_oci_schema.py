"""The project's config.json schema accepts every bundle this suite feeds to runtimes (which runc,
crun and pyrunc all run), and rejects the malformed ones the bad-input tests use."""

from __future__ import annotations

import pytest
from spectest.bundle import default_config
from spectest.scenarios import SCENARIOS
from spectest.schema import validate_config


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_configs_are_valid(scenario, tmp_path):
    config = default_config("/rootfs", "id")
    scenario.apply(config, str(tmp_path))
    assert validate_config(config) == []


def test_bad_input_configs_are_named():
    config = default_config("/rootfs", "id")
    config["linux"]["namespaces"].append({"type": "bogusns"})
    config["linux"]["namespaces"].append({"type": "uts"})
    config["process"]["rlimits"].append({"type": "RLIMIT_NO_SUCH", "soft": 1, "hard": 1})
    problems = validate_config(config)
    assert any(p.startswith("linux.namespaces[5].type: 'bogusns'") for p in problems), problems
    assert any(p.startswith("linux.namespaces[6].type: duplicate") for p in problems), problems
    assert any(p.startswith("process.rlimits[1].type:") for p in problems), problems
    assert len(problems) == 3, problems
