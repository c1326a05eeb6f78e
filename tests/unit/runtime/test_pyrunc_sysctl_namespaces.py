"""pyrunc's sysctl check (linux/rootfs.py check_sysctl): runc's rule, namespaced sysctls only
and only for a namespace the container has, created or joined by path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrunc.errors import ConfigError
from pyrunc.linux.rootfs import check_sysctl

NET = {"net.ipv4.ip_forward": "1"}


def test_a_new_namespace_takes_its_sysctls() -> None:
    check_sysctl({**NET, "kernel.shmmni": "100", "kernel.hostname": "h"},
                 {"network", "ipc", "uts"})


def test_a_joined_namespace_takes_them_too(tmp_path: Path) -> None:
    """docker run --network container:X --sysctl net.*: the target's namespace, by path (a
    file that is not this process' namespace stands for it; the real join:
    tests/integration/engine_network/test_net_names.py)."""
    other = tmp_path / "netns"
    other.touch()
    check_sysctl(NET, set(), {"network": str(other)})
    check_sysctl({"kernel.shmmni": "100"}, set(), {"ipc": str(other)})


@pytest.mark.parametrize("joined", [None, {"ipc": "/proc/1/ns/ipc"},
                                    {"network": "/proc/self/ns/net"},
                                    {"network": f"/proc/{os.getpid()}/ns/net"}])
def test_the_host_s_network_namespace_refuses_them(joined: dict[str, str] | None) -> None:
    """No network namespace, or one that is the runtime's own (named by any path)."""
    with pytest.raises(ConfigError, match="not allowed in the host's network namespace"):
        check_sysctl(NET, {"ipc", "uts"}, joined)


def test_a_sysctl_no_namespace_holds_is_refused() -> None:
    with pytest.raises(ConfigError, match="is not in a separate kernel namespace"):
        check_sysctl({"vm.swappiness": "1"}, {"network", "ipc", "uts"})
