"""Privileges, devices and kernel options through pyengined and pyrunc, seen from inside the
container: capabilities (--cap-add/--cap-drop, --privileged), --security-opt, --device,
--sysctl, --ulimit, --shm-size and --oom-score-adj; docker's errors for bad values (the IPC
modes: test_containers_hostcfg.py)."""

from __future__ import annotations

import json
import os

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

CAP_CHOWN, CAP_NET_ADMIN, CAP_SYS_ADMIN = 0, 12, 21
DOCKER_DEFAULT_CAPS = 0xA80425FB  # docker's default set, as runc and dockerd give it


def _run(engine: ContainerEngine, *args: str) -> str:
    result = engine.pyctl("run", "--rm", "--network", "none", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def _status_field(text: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines()
                if line.startswith(name + ":"))


def _own_status(name: str) -> str:
    with open("/proc/self/status") as handle:
        return _status_field(handle.read(), name)


def _inspect(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


def _error(engine: ContainerEngine, *args: str) -> str:
    """The stderr of a run that pyctl or the daemon refuses (docker's exit status 125)."""
    result = engine.pyctl("run", "--rm", "--network", "none", *args, "busybox", "true")
    assert result.returncode == 125, result
    return result.stderr.decode()


def test_defaults_are_dockers(engine: ContainerEngine) -> None:
    out = _run(engine, "busybox", "sh", "-c",
               "cat /proc/self/oom_score_adj /proc/self/status; grep ' /dev/shm ' /proc/mounts")
    lines = out.splitlines()
    assert lines[0] == "0"  # docker's, not the shim's own score
    assert int(_status_field(out, "CapEff"), 16) == DOCKER_DEFAULT_CAPS
    assert _status_field(out, "Seccomp") == "2" and _status_field(out, "NoNewPrivs") == "0"
    assert "size=65536k" in lines[-1]
    host = _inspect(engine, engine.out("create", "busybox").strip())["HostConfig"]
    assert (host["Privileged"], host["CapAdd"], host["CapDrop"], host["SecurityOpt"]) == (
        False, None, None, None)
    assert (host["Devices"], host["Ulimits"], "Sysctls" in host) == ([], [], False)
    assert (host["ShmSize"], host["OomScoreAdj"]) == (64 << 20, 0)


def test_cap_add_and_drop(engine: ContainerEngine) -> None:
    out = _run(engine, "--cap-add", "net_admin", "--cap-drop", "CAP_CHOWN", "busybox",
               "cat", "/proc/self/status")
    caps = int(_status_field(out, "CapEff"), 16)
    assert caps == (DOCKER_DEFAULT_CAPS | 1 << CAP_NET_ADMIN) & ~(1 << CAP_CHOWN)
    only = int(_status_field(_run(engine, "--cap-drop", "ALL", "--cap-add", "NET_ADMIN",
                                  "busybox", "cat", "/proc/self/status"), "CapEff"), 16)
    assert only == 1 << CAP_NET_ADMIN
    cid = engine.out("create", "--cap-add", "net_admin", "--cap-drop", "chown",
                     "busybox").strip()
    host = _inspect(engine, cid)["HostConfig"]
    assert (host["CapAdd"], host["CapDrop"]) == (["CAP_NET_ADMIN"], ["CAP_CHOWN"])
    assert 'Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"' in \
        _error(engine, "--cap-add", "FOO")


def test_privileged_has_the_engines_bounding_set_and_the_hosts_devices(
        engine: ContainerEngine) -> None:
    device = next(f"/dev/{n}" for n in ("fuse", "loop-control", "net/tun", "null")
                  if os.path.exists(f"/dev/{n}"))
    out = _run(engine, "--privileged", "busybox", "sh", "-c",
               f"cat /proc/self/status; ls -l {device}; grep ' /sys ' /proc/mounts")
    # the engine runs as this test does: its bounding set is ours (CAP_SYS_RESOURCE may be
    # missing from it, which dockerd 20.10 fails on)
    assert _status_field(out, "CapEff") == _own_status("CapBnd")
    assert _status_field(out, "Seccomp") == "0"
    rdev = os.stat(device).st_rdev
    assert f"{os.major(rdev)}, {os.minor(rdev)}" in out.splitlines()[-2]
    assert " rw," in out.splitlines()[-1]  # /sys
    # runc too: dockerd 20.10 asks it for every capability and fails where one is missing
    runc = _run(engine, "--runtime", "runc", "--privileged", "busybox", "cat",
                "/proc/self/status")
    assert _status_field(runc, "CapEff") == _own_status("CapBnd")
    host = _inspect(engine, engine.out("create", "--privileged", "busybox").strip())
    assert (host["HostConfig"]["Privileged"], host["HostConfig"]["SecurityOpt"]) == (
        True, ["label=disable"])


def test_security_opts(engine: ContainerEngine, tmp_path: os.PathLike) -> None:
    out = _run(engine, "--security-opt", "seccomp=unconfined", "--security-opt",
               "no-new-privileges", "busybox", "cat", "/proc/self/status")
    assert (_status_field(out, "Seccomp"), _status_field(out, "NoNewPrivs")) == ("0", "1")
    profile = os.path.join(tmp_path, "profile.json")
    with open(profile, "w") as handle:  # everything allowed but mkdir (EPERM)
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]},
                  handle)
    result = engine.pyctl("run", "--rm", "--network", "none", "--security-opt",
                          f"seccomp={profile}", "busybox", "sh", "-c",
                          "mkdir /tmp/x || echo refused; grep Seccomp: /proc/self/status")
    assert result.stdout.decode().split("\n")[:2] == ["refused", "Seccomp:\t2"], result.stderr
    assert 'Invalid --security-opt: "bogus"' in _error(engine, "--security-opt", "bogus")
    assert "AppArmor is not enabled on this host" in _error(engine, "--security-opt",
                                                            "apparmor=myprofile")


def test_devices(engine: ContainerEngine) -> None:
    out = _run(engine, "--device", "/dev/null:/dev/mynull:rw", "busybox", "sh", "-c",
               "ls -l /dev/mynull && echo data > /dev/mynull && echo written")
    assert out.startswith("crw") and " 1,   3 " in out and out.endswith("written\n")
    # a device outside docker's default rules: the devices cgroup allows what was asked only
    extra = next((f"/dev/{n}" for n in ("fuse", "loop-control") if os.path.exists(f"/dev/{n}")),
                 None)
    if extra is not None:
        script = "exec 3>/dev/d && echo opened"
        assert _run(engine, "--device", f"{extra}:/dev/d:rw", "busybox", "sh", "-c",
                    script).strip() == "opened"
        refused = engine.pyctl("run", "--rm", "--network", "none", "--device",
                               f"{extra}:/dev/d:r", "busybox", "sh", "-c", script)
        assert b"Operation not permitted" in refused.stderr
    cid = engine.out("create", "--device", "/dev/null:/dev/mynull", "busybox").strip()
    assert _inspect(engine, cid)["HostConfig"]["Devices"] == [
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "rwm"}]
    assert ("Error response from daemon: error gathering device information while adding "
             'custom device "/dev/nosuch": no such file or directory') in \
        _error(engine, "--device", "/dev/nosuch")
    assert "bad mode specified: x" in _error(engine, "--device", "/dev/null:/dev/n:x")


def test_sysctls_ulimits_shm_and_oom_score(engine: ContainerEngine) -> None:
    out = _run(engine, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=1000",
               "--ulimit", "nofile=1024:2048", "--shm-size", "1m", "--oom-score-adj", "500",
               "busybox", "sh", "-c",
               "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; ulimit -n; "
               "ulimit -Hn; grep ' /dev/shm ' /proc/mounts; cat /proc/self/oom_score_adj")
    lines = out.splitlines()
    assert lines[:4] == ["1", "1000", "1024", "2048"]
    assert "size=1024k" in lines[4] and lines[5] == "500"
    cid = engine.out("create", "--sysctl", "net.ipv4.ip_forward=1", "--ulimit", "nofile=1024",
                     "--shm-size", "1m", "--oom-score-adj", "500", "busybox").strip()
    host = _inspect(engine, cid)["HostConfig"]
    assert host["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert host["Ulimits"] == [{"Name": "nofile", "Hard": 1024, "Soft": 1024}]
    assert (host["ShmSize"], host["OomScoreAdj"]) == (1 << 20, 500)
    assert ('Error: invalid argument "kernel.foo=1" for "--sysctl" flag: sysctl '
             "'kernel.foo=1' is not allowed") in _error(engine, "--sysctl", "kernel.foo=1")
    assert 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace' in \
        _error(engine, "--sysctl", "net.ipv4.ip_forward=1", "--network", "host")
    assert ('Error: invalid argument "nofile=3:2" for "--ulimit" flag: ulimit soft limit '
             "must be less than or equal to hard limit: 3 > 2") in \
        _error(engine, "--ulimit", "nofile=3:2")
    assert ("Error response from daemon: Invalid value 2000, range for oom score adj is "
             "[-1000, 1000]") in _error(engine, "--oom-score-adj", "2000")
