"""run of an image missing locally pulls it first, as docker's client does."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from ctr_harness import ContainerEngine

from tests.fixtures import netns

pytestmark = [pytest.mark.root]


def test_run_pulls_a_missing_image(make_engine: Callable[..., ContainerEngine],
                                   registry) -> None:
    engine = make_engine(module_network=True)
    assert engine.process is not None  # with the registry, in the module's namespace
    assert os.readlink(f"/proc/{engine.process.pid}/ns/net") != netns.MACHINE
    remote = f"{registry.host}/ctr/bb:1"
    engine.out("tag", "busybox", remote)
    engine.out("push", remote)
    engine.out("rmi", remote)
    result = engine.pyctl("run", "--rm", remote, "echo", "pulled")
    assert (result.returncode, result.stdout) == (0, b"pulled\n"), result.stderr
    err = result.stderr.decode()
    assert err.startswith(f"Unable to find image '{remote}' locally\n")
    assert f"Status: Downloaded newer image for {remote}" in err
    assert remote in engine.out("images", "--format", "{{.Repository}}:{{.Tag}}")
