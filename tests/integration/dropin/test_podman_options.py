"""podman run options that become config.json fields the runtime must honour (user namespace,
shared host namespaces, cgroup namespace, devices, volumes, tmpfs, sysctls, ulimits, oom score,
read-only rootfs), then a runtime under a name podman does not know (no --log: errors through
stderr only) and ``podman info``'s version line. Each case runs with runc and with pyrunc."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dropin_env as env
import pytest

pytestmark = pytest.mark.root


def host_ns(kind: str) -> str:
    return os.readlink(f"/proc/self/ns/{kind}")


def test_user_namespace_mappings(pod):
    result = pod.run_rm("--uidmap", "0:200000:65536", "--gidmap", "0:200000:65536", env.IMAGE,
                        "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; "
                        "touch /tmp/file && stat -c %u /tmp/file")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "200000", "65536", "0", "200000", "65536", "0", "0"]


def test_host_namespaces(pod):
    result = pod.run_rm("--uts", "host", "--ipc", "host", "--network", "host", env.IMAGE,
                        "sh", "-c", "for n in uts ipc net pid; do readlink /proc/self/ns/$n; done; "
                        "hostname")
    assert result.returncode == 0, result.stderr
    uts, ipc, net, pid, hostname = result.stdout.split()
    assert (uts, ipc, net) == (host_ns("uts"), host_ns("ipc"), host_ns("net"))
    assert pid != host_ns("pid")
    assert hostname == socket.gethostname()


def test_private_cgroup_namespace(pod):
    result = pod.run_rm("--cgroupns", "private", env.IMAGE, "sh", "-c",
                        "readlink /proc/self/ns/cgroup; cat /proc/self/cgroup")
    assert result.returncode == 0, result.stderr
    first, *cgroups = result.stdout.splitlines()
    assert first != host_ns("cgroup")
    assert cgroups and all(line.endswith(":/") for line in cgroups), cgroups


def test_device_volume_and_tmpfs(pod, tmp_path):
    (tmp_path / "rw").mkdir()
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "data").write_text("read me\n")
    script = ("stat -c '%F %t:%T' /dev/myzero; head -c 4 /dev/myzero | od -An -tx1; "
              "echo written > /rw/out; cat /ro/data; touch /ro/x 2> /dev/null || echo ro-ok; "
              "grep ' /scratch ' /proc/self/mountinfo | cut -d' ' -f6")
    result = pod.run_rm("--device", "/dev/zero:/dev/myzero", "-v", f"{tmp_path / 'rw'}:/rw",
                        "-v", f"{tmp_path / 'ro'}:/ro:ro", "--tmpfs", "/scratch:size=1m,noexec",
                        env.IMAGE, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "character special file 1:5"
    assert lines[1].split() == ["00", "00", "00", "00"]
    assert lines[2:4] == ["read me", "ro-ok"]
    assert "noexec" in lines[4].split(",")
    assert (tmp_path / "rw" / "out").read_text() == "written\n"


def test_sysctl_ulimit_oom_score_read_only(pod):
    # --ulimit replaces the default_ulimits: nproc must stay below the hard limit here too
    result = pod.run_rm("--sysctl", "kernel.msgmax=4096", "--ulimit", "nofile=1000:1001",
                        "--ulimit", "nproc=32768:32768",
                        "--oom-score-adj", "123", "--read-only", env.IMAGE, "sh", "-c",
                        "cat /proc/sys/kernel/msgmax; ulimit -n; ulimit -Hn; "
                        "cat /proc/self/oom_score_adj; touch /x 2> /dev/null || echo ro")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4096", "1000", "1001", "123", "ro"]


@pytest.fixture
def renamed(pod, tmp_path) -> str:
    """The runtime under test as a file podman does not know by name (no --log for it)."""
    link = tmp_path / "oci-runtime"
    link.symlink_to(pod.runtime.path)
    return str(link)


def test_runtime_without_log_flag_reports_through_stderr(pod, renamed):
    ok = pod.manager.podman("run", "--rm", env.IMAGE, "sh", "-c", "echo fine; exit 4",
                            runtime=renamed, check=False)
    assert (ok.returncode, ok.stdout) == (4, "fine\n"), ok.stderr
    failed = pod.manager.podman("run", "--rm", env.IMAGE, "no-such-command", runtime=renamed,
                                check=False)
    assert failed.returncode == 127, failed.stderr
    assert "executable file not found" in failed.stderr
    assert '"level"' not in failed.stderr  # plain text, not JSON, without --log-format json


def test_podman_info_shows_runtime_version(pod):
    result = pod("info", "--format", "{{.Host.OCIRuntime.Version}}", check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{Path(pod.runtime.path).name} version ") or \
        lines[0].startswith("pyrunc version "), lines
    assert any(line.startswith("spec: 1.") for line in lines), lines
