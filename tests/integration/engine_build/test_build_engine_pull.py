"""A FROM image missing locally is pulled (its progress streamed as pull events), and
--pull pulls it again even when present; the registry is Debian's docker-registry on the
module's loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture
from tests.fixtures.registry import registry  # noqa: F401 - a fixture

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))

from solver_harness import BuildEngine, build, module_engine, run_cat

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildEngine]:
    with module_engine(tmp_path_factory, module_network=True) as started:
        yield started


def test_from_pulls_a_missing_image_and_pull_pulls_again(engine: BuildEngine,
                                                          registry) -> None:  # noqa: F811
    remote = f"{registry.host}/solver/bb:1"
    engine.out("tag", "busybox", remote)
    engine.out("push", remote)
    engine.out("rmi", remote)
    dockerfile = f"FROM {remote}\nRUN echo built > /b\n"
    out = build(engine, {"Dockerfile": dockerfile}, tags=["solver-pulled:1"])
    assert out.code is None, out.message
    pulled = [e.pull.status for e in out.events if e.HasField("pull")]
    assert f"Status: Downloaded newer image for {remote}" in pulled
    assert run_cat(engine, "solver-pulled:1", "cat", "/b") == "built\n"
    again = build(engine, {"Dockerfile": dockerfile}, pull=True)
    assert again.code is None, again.message
    assert f"Status: Image is up to date for {remote}" in [
        e.pull.status for e in again.events if e.HasField("pull")]
    assert again.cached() == [False, True]
