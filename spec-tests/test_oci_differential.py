"""Differential mode (`--differential`): each scenario's bundle runs under the runtime under
test and under the reference runtime (runc); their normalised probe reports must be equal,
except for differences listed with a reason in known-differences.json.

Containers go through create + start (the way containerd's shim and conmon drive runtimes), so
the container inherits the runtime's stdio in both runs (runc's foreground `run` would put its
own pipes in between)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from spectest.bundle import set_namespace
from spectest.compare import Context, differences, load_known, normalize, unexplained
from spectest.host import mount_namespace_holder
from spectest.probe import observe_detached
from spectest.scenarios import SCENARIOS

pytestmark = pytest.mark.differential
KNOWN = Path(__file__).with_name("known-differences.json")


@pytest.fixture(scope="module")
def hostdir(workdir: Path) -> str:
    d = workdir / "diff-hostdir"
    (d / "sub").mkdir(parents=True, exist_ok=True)
    (d / "file").write_text("from host\n")
    return str(d)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_same_observations(scenario, factory, runtime, reference_runtime, hostdir, workdir,
                           host_ns):
    reports = []
    for rt in (runtime, reference_runtime):
        if scenario.runtime_private_mount_ns:
            rt = rt.in_private_mount_ns()
        ctr = factory.make(rt)
        scenario.apply(ctr.config, hostdir)
        with ExitStack() as stack:
            if scenario.join_mount_ns:  # a fresh one per run: the container pivots in it
                set_namespace(ctr.config, "mount", stack.enter_context(mount_namespace_holder()))
            report = observe_detached(ctr)
        ctx = Context(cid=ctr.id, bundle=str(ctr.bundle), workdir=str(workdir), host_ns=host_ns)
        reports.append(normalize(report, ctx))
    diffs = differences(reports[0], reports[1])
    left = unexplained(runtime.name, scenario.name, diffs, load_known(KNOWN))
    assert not left, (f"{runtime.name} vs {reference_runtime.name}, scenario {scenario.name}: "
                      + "\n".join(map(str, left)))
