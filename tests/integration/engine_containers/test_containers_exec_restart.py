"""Execs across a daemon restart (SIGTERM or kill -9), with containerd's Go shim and ours: an
exec still running when the daemon comes back is waited for again, one that exited while it
was away is collected; either way it is deleted in the shim and its fifos leave the bundle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

WAIT = 120.0  # a bound for a hung test only, never an expectation


def _waits_for(flag: str) -> list[str]:
    return ["sh", "-c", f"while [ ! -e /tmp/{flag} ]; do sleep 0.1; done"]


def _shim_knows(bundle: Path, cid: str, exec_id: str) -> bool:
    from pyengine.containers.shims import Shim
    from pyengine.errors import NotFound

    async def ask() -> bool:
        address = (bundle / "address").read_text().strip().removeprefix("unix://")
        shim = await Shim.connect(cid, address)
        try:
            await shim.state(exec_id)
        except NotFound:
            return False
        finally:
            await shim.close()
        return True

    return asyncio.run(ask())


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
@pytest.mark.parametrize("shim", ["go-shim", "pyrunc-shim"])
def test_execs_are_collected_after_a_daemon_restart(
        make_engine: Callable[..., ContainerEngine], request: pytest.FixtureRequest, shim: str,
        how: str) -> None:
    from pyengine.containers.exec_recovery import recorded

    config = {}  # containerd's Go shim: the engine's default
    if shim == "pyrunc-shim":
        # conftest's launcher: its zygote is ended by pid after the module
        config["shim-binary"] = str(request.getfixturevalue("pyrunc_shim"))
    engine = make_engine(config=config)
    cid = engine.out("run", "-d", "busybox", "sleep", "100000").strip()
    bundle = engine.exec_root / "containers" / cid
    engine.out("exec", "-d", cid, *_waits_for("running"))
    engine.out("exec", "-d", cid, *_waits_for("exited"))
    execs = set(recorded(bundle))
    assert len(execs) == 2
    if how == "kill9":
        engine.kill9()
    else:
        assert engine.stop() == 0
    assert set(recorded(bundle)) == execs  # the daemon's stop leaves them to the next start
    (bundle / "rootfs" / "tmp" / "exited").touch()  # one exits while the daemon is away
    engine.start()
    engine.out("exec", cid, "touch", "/tmp/running")  # the other after its restart
    deadline = time.monotonic() + WAIT  # a bound for a hang, not an expectation
    while execs & set(recorded(bundle)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not execs & set(recorded(bundle))
    assert not any(_shim_knows(bundle, cid, exec_id) for exec_id in execs)
    engine.out("rm", "-f", cid)
