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
    crun_binary,
    install_pyrunc_shim,
    shim_config,
    stop_zygote,
)
from net_harness import HTTPD, http_get, ip_of, network_engine

pytestmark = [pytest.mark.root, pytest.mark.slow]

RUNTIMES = ("pyrunc", "runc", "crun")


@pytest.fixture(scope="module", params=SHIMS)
def tier_engine(request: pytest.FixtureRequest, net_launcher: Path, net_busybox_tar: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerEngine]:
    """A daemon per shim, in the module's network namespace (127.0.0.1 is the daemon's)."""
    shim_launcher = install_pyrunc_shim(tmp_path_factory.mktemp("shim"))
    try:
        with network_engine(net_launcher, net_busybox_tar,
                            **shim_config(request.param, shim_launcher)) as engine:
            yield engine
    finally:
        stop_zygote(shim_launcher)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_joins_a_user_network_by_name_and_port(
        tier_engine: ContainerEngine, runtime: str, net_launcher: Path,
        tmp_path: Path) -> None:
    engine = tier_engine
    binary = {"pyrunc": str(net_launcher), "runc": "runc",
              "crun": crun_binary(tmp_path)}[runtime]
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
