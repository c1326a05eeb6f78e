"""A build cut short leaves nothing: a client that cancels mid-RUN (the build task is
cancelled: its container killed and removed, its snapshot, context and lease gone), and a
daemon killed with -9 mid-RUN (the next start removes the build container, its processes,
the active snapshot and the context directory)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))

from ctr_harness import restart_crashing_at
from solver_harness import (
    NOTHING,
    BuildEngine,
    build,
    build_until_running,
    container_processes,
    leases,
    leftovers,
    module_engine,
    wait_for,
)

pytestmark = [pytest.mark.root]

SLOW = {"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo started; sleep 300\n", "f": "x"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildEngine]:
    with module_engine(tmp_path_factory) as started:
        yield started


def test_a_cancelled_build_is_undone(engine: BuildEngine) -> None:
    channel, call, cid = build_until_running(engine, SLOW)
    try:
        wait_for(lambda: bool(container_processes(cid)), "the RUN step's process")
        assert cid in engine.ids()  # docker's classic builder shows it in ps -a too
        call.cancel()  # type: ignore[attr-defined]  # a grpc streaming call
    finally:
        channel.close()
    wait_for(lambda: leftovers(engine) == NOTHING, "the cancelled build's clean-up")
    assert container_processes(cid) == []
    # the committed COPY layer stays cached: the next build reuses it
    out = build(engine, {"Dockerfile": "FROM busybox\nCOPY f /f\n", "f": "x"})
    assert out.code is None, out.message
    assert out.cached() == [False, True]


def test_a_daemon_killed_mid_build_cleans_up_at_the_next_start(engine: BuildEngine) -> None:
    channel, _call, cid = build_until_running(engine, SLOW)
    try:
        wait_for(lambda: bool(container_processes(cid)), "the RUN step's process")
        engine.kill9()
    finally:
        channel.close()
    engine.start()
    assert leftovers(engine) == NOTHING
    # killed by the recovery; the kernel may still be tearing the process down
    wait_for(lambda: container_processes(cid) == [], "the killed RUN step's process gone")
    out = build(engine, {"Dockerfile": "FROM busybox\nRUN echo again\n"})
    assert out.code is None, out.message


SIBLING = """\
ARG SYNC
FROM busybox AS slow
ARG SYNC
RUN --mount=type=cache,id=$SYNC,target=/s touch /s/running && sleep 300
FROM busybox AS failing
ARG SYNC
RUN --mount=type=cache,id=$SYNC,target=/s i=0; until [ -e /s/running ]; do i=$((i+1)); [ $i -lt 3000 ] || exit 9; sleep 0.1; done; exit 4
FROM busybox
COPY --from=slow /etc/hostname /a
COPY --from=failing /etc/hostname /b
"""  # noqa: E501 - one RUN line


def test_a_failing_stage_stops_its_running_siblings(engine: BuildEngine) -> None:
    out = build(engine, {"Dockerfile": SIBLING}, build_args={"SYNC": uuid.uuid4().hex})
    assert out.code is not None and "returned a non-zero code: 4" in out.message
    assert leftovers(engine) == NOTHING  # the sleeping stage's container is gone too


@pytest.mark.parametrize("point", ["build.context-extracted", "build.copy-mounted",
                                   "build.layer-stored"])
def test_a_daemon_crashing_inside_a_build_step_cleans_up(engine: BuildEngine,
                                                         point: str) -> None:
    restart_crashing_at(engine, point)
    try:
        out = build(engine, {"Dockerfile": "FROM busybox\nCOPY f /f\n",
                             "f": uuid.uuid4().hex})
        assert out.code is not None  # the daemon died under the call
        assert engine.process is not None
        engine.process.wait()
    finally:
        engine.start()
    assert leftovers(engine) == NOTHING
    assert leases(engine) == []
