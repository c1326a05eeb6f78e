"""pyctl's --pid, --ipc, --uts, --cgroupns, --group-add, --device-cgroup-rule, --log-driver and
--volume-driver through the gRPC edge (the REST edge's are tests/integration/dockerapi/
test_api_hostcfg.py): the same domain, seen from inside the container and in inspect."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]


def _host(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]["HostConfig"]


def test_namespace_flags(engine: ContainerEngine) -> None:
    seen = engine.out("run", "--rm", "--pid", "host", "--ipc", "host", "--cgroupns", "private",
                      "busybox", "sh", "-c",
                      "for n in pid ipc cgroup; do readlink /proc/self/ns/$n; done").split()
    assert seen[:2] == [os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/ipc")]
    assert seen[2] != os.readlink("/proc/self/ns/cgroup")
    donor = engine.out("run", "-d", "--ipc", "shareable", "busybox", "sleep", "300").strip()
    on_host = engine.out("run", "-d", "--pid", "host", "busybox", "sleep", "300").strip()
    assert engine.out("exec", on_host, "readlink", "/proc/self/ns/pid").strip() == \
        os.readlink("/proc/self/ns/pid")  # an exec joins the same (the daemon's) namespace
    joiner = engine.out("create", "--pid", f"container:{donor[:12]}", "--ipc",
                        f"container:{donor[:12]}", "--uts", "host", "busybox", "true").strip()
    host = _host(engine, joiner)
    assert (host["PidMode"], host["IpcMode"], host["UTSMode"]) == (
        f"container:{donor}", f"container:{donor}", "host")
    bad = engine.pyctl("create", "--uts", "container:x", "busybox")
    assert bad.returncode == 125 and b"--uts: invalid UTS mode" in bad.stderr


def test_groups_devices_and_drivers(engine: ContainerEngine) -> None:
    assert engine.out("run", "--rm", "--group-add", "tty", "--group-add", "4242", "busybox",
                      "id", "-G").split() == ["0", "5", "4242"]
    cid = engine.out("create", "--device-cgroup-rule", "c 7:128 rwm", "--log-driver", "none",
                     "--volume-driver", "local", "busybox", "echo", "hi").strip()
    host = _host(engine, cid)
    assert (host["DeviceCgroupRules"], host["LogConfig"]["Type"], host["VolumeDriver"]) == (
        ["c 7:128 rwm"], "none", "local")
    engine.out("start", cid)
    logs = engine.pyctl("logs", cid)
    assert logs.returncode == 1
    assert b"configured logging driver does not support reading" in logs.stderr
    bad = engine.pyctl("create", "--device-cgroup-rule", "c 1:3", "busybox")
    assert bad.returncode == 1 and b"invalid device cgroup rule format: 'c 1:3'" in bad.stderr
    syslog = engine.pyctl("create", "--log-driver", "syslog", "busybox")
    assert syslog.returncode == 1
    assert b"pyengined does not support the syslog log driver" in syslog.stderr


def _mounted(path: Path) -> bool:
    with open("/proc/self/mountinfo") as table:
        return any(line.split()[4] == str(path) for line in table)


def test_a_shareable_ipc_shm_is_a_tmpfs_of_its_size(engine: ContainerEngine) -> None:
    """dockerd's: a tmpfs of --shm-size while the container runs, not a directory of /run."""
    donor = engine.out("run", "-d", "--ipc", "shareable", "--shm-size", "1m", "busybox",
                       "sleep", "300").strip()
    shm = engine.exec_root / "containers" / donor / "shm"
    try:
        assert _mounted(shm)
        assert engine.out("exec", donor, "df", "-k", "/dev/shm").split("\n")[1].split()[1] \
            == "1024"
        full = engine.pyctl("exec", donor, "dd", "if=/dev/zero", "of=/dev/shm/big", "bs=1k",
                            "count=2048")
        assert full.returncode != 0 and b"No space left" in full.stderr
        engine.out("exec", donor, "sh", "-c", "rm /dev/shm/big; echo shared > /dev/shm/note")
        assert engine.out("run", "--rm", "--ipc", f"container:{donor}", "busybox", "cat",
                          "/dev/shm/note").strip() == "shared"
        engine.out("stop", "-t", "0", donor)
        assert not _mounted(shm)
        engine.out("start", donor)  # a new run starts with an empty /dev/shm
        assert _mounted(shm)
        assert engine.out("exec", donor, "ls", "/dev/shm").strip() == ""
    finally:
        engine.pyctl("rm", "-f", donor)
    assert not _mounted(shm) and not shm.exists()
