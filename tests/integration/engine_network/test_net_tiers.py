"""Networks stay swappable across the tiers below the engine: under containerd's Go shim and
under ours, containers of pyrunc, runc and crun join a user network, find each other by name
through the embedded DNS and answer on a published port from 127.0.0.1. The engine configures
the namespace the runtime made (between the shim's Create and Start), so any runtime works; a
runtime or shim that made its own network setup would fail here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ctr_harness import (
    SHIMS,
    ContainerEngine,
    cleanup,
    install_pyrunc_shim,
    shim_config,
    stop_zygote,
)
from engine_harness import new_base
from net_harness import HTTPD, http_get, ip_of, remove_everything

pytestmark = [pytest.mark.root, pytest.mark.slow]

RUNTIMES = ("pyrunc", "runc", "crun")


@pytest.fixture(scope="module", params=SHIMS)
def tier_engine(request: pytest.FixtureRequest, net_launcher: Path, net_busybox_tar: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerEngine]:
    """A daemon per shim, in the module's network namespace (127.0.0.1 is the daemon's)."""
    shim_launcher = install_pyrunc_shim(tmp_path_factory.mktemp("shim"))
    engine = ContainerEngine(new_base(), {"default-runtime": str(net_launcher),
                                          "dns-upstream": ["127.0.0.1:9"],
                                          **shim_config(request.param, shim_launcher)})
    engine.module_network = True
    engine.launcher = net_launcher  # type: ignore[attr-defined]  # for cleanup
    try:
        engine.start()
        engine.pyctl("import", "-c", 'CMD ["sh"]', str(net_busybox_tar), "busybox:latest",
                     check=True)
        yield engine
    finally:
        remove_everything(engine)
        cleanup(engine)
        stop_zygote(shim_launcher)


def _crun(directory: Path) -> str:
    """crun as the engine can run it here: crun 1.8 refuses a hybrid cgroup layout, so there
    it runs with the cgroup2 mount hidden in a private mount namespace (as the container
    tests do); the network namespace is untouched by that."""
    import os

    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return "crun"
    wrapper = directory / "crun"
    wrapper.write_text("#!/bin/sh\n"
                       "exec unshare -m --propagation slave sh -c "
                       "'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun \"$@\"' "
                       'crun "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_joins_a_user_network_by_name_and_port(
        tier_engine: ContainerEngine, runtime: str, net_launcher: Path,
        tmp_path: Path) -> None:
    engine = tier_engine
    binary = {"pyrunc": str(net_launcher), "runc": "runc", "crun": _crun(tmp_path)}[runtime]
    engine.out("network", "create", "tiers")
    try:
        engine.out("run", "-d", "--runtime", binary, "--network", "tiers", "--name", "web",
                   "--network-alias", "www", "-p", "127.0.0.1:18080:80", "busybox", *HTTPD)
        page = http_get("127.0.0.1", 18080).strip()
        assert page.startswith("hello from ")
        address = ip_of(engine, "web", "tiers")
        # a second container of the same runtime resolves the first by name and alias
        for name in ("web", "www"):
            out = engine.out("run", "--rm", "--runtime", binary, "--network", "tiers",
                             "busybox", "nslookup", name)
            assert address in out
        out = engine.out("run", "--rm", "--runtime", binary, "--network", "tiers", "busybox",
                         "wget", "-qO-", "http://www/")
        assert out.strip() == page
    finally:
        engine.pyctl("rm", "-f", "web")
        engine.pyctl("network", "rm", "tiers")
