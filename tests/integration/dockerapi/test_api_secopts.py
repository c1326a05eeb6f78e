"""Privileges, devices and kernel options through the Docker Engine API: the create body's
HostConfig fields read back by inspect in dockerd 20.10's shapes (recorded from a private
dockerd 20.10 with the docker CLI 28), and the docker CLI's flags in effect in a container."""

from __future__ import annotations

import json
from pathlib import Path

from api_harness import DockerApi

FIELDS = ("CapAdd", "CapDrop", "Privileged", "SecurityOpt", "Devices", "Sysctls", "Ulimits",
          "ShmSize", "OomScoreAdj", "IpcMode")


def _host_config(api: DockerApi, ref: str) -> dict:
    host = api.http("GET", f"/containers/{ref}/json").json()["HostConfig"]
    return {key: host.get(key, "absent") for key in FIELDS}


def test_create_body_and_inspect_shapes(api: DockerApi) -> None:
    made = []
    try:
        reply = api.http("POST", "/containers/create", {
            "Image": "busybox", "HostConfig": {
                "CapAdd": ["CAP_NET_ADMIN"], "CapDrop": ["CAP_CHOWN"], "Privileged": True,
                "SecurityOpt": ["no-new-privileges"],
                "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/null",
                             "CgroupPermissions": "rwm"}],
                "Sysctls": {"net.ipv4.ip_forward": "1"},
                "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
                "ShmSize": 1 << 20, "OomScoreAdj": 500, "IpcMode": "shareable"}})
        assert (reply.status, reply.json()["Warnings"]) == (201, []), reply.json()
        made.append(reply.json()["Id"])
        assert _host_config(api, made[-1]) == {  # dockerd 20.10's
            "CapAdd": ["CAP_NET_ADMIN"], "CapDrop": ["CAP_CHOWN"], "Privileged": True,
            "SecurityOpt": ["no-new-privileges", "label=disable"],
            "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/null",
                         "CgroupPermissions": "rwm"}],
            "Sysctls": {"net.ipv4.ip_forward": "1"},
            "Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}],
            "ShmSize": 1 << 20, "OomScoreAdj": 500, "IpcMode": "shareable"}
        made.append(api.docker("create", "busybox").stdout.strip())
        assert _host_config(api, made[-1]) == {  # dockerd 20.10's defaults
            "CapAdd": None, "CapDrop": None, "Privileged": False, "SecurityOpt": None,
            "Devices": [], "Sysctls": "absent", "Ulimits": [], "ShmSize": 64 << 20,
            "OomScoreAdj": 0, "IpcMode": "private"}
        made.append(api.docker("create", "--ipc", "host", "--cap-add", "ALL", "--cap-drop",
                               "NET_RAW", "--security-opt", "seccomp=unconfined",
                               "busybox").stdout.strip())
        host = _host_config(api, made[-1])
        assert (host["CapAdd"], host["CapDrop"], host["SecurityOpt"], host["IpcMode"]) == (
            ["ALL"], ["CAP_NET_RAW"], ["seccomp=unconfined", "label=disable"], "host")
        refused = api.http("POST", "/containers/create", {
            "Image": "busybox", "HostConfig": {"CapAdd": ["FOO"]}})
        assert (refused.status, refused.json()["message"]) == (
            400, 'invalid CapAdd: unknown capability: "CAP_FOO"')
        refused = api.http("POST", "/containers/create", {
            "Image": "busybox", "HostConfig": {"OomScoreAdj": 2000}})
        assert (refused.status, refused.json()["message"]) == (
            400, "Invalid value 2000, range for oom score adj is [-1000, 1000]")
    finally:
        if made:
            api.docker("rm", "-f", *made, check=False)


def test_docker_cli_flags_take_effect(api: DockerApi, tmp_path: Path) -> None:
    out = api.docker("run", "--rm", "--network", "none", "busybox", "cat",
                     "/proc/self/oom_score_adj").stdout
    assert out == "0\n"  # dockerd's default, not the shim's own score
    out = api.docker("run", "--rm", "--network", "none", "--cap-add", "NET_ADMIN",
                     "--ulimit", "nofile=1024:2048", "--sysctl", "net.ipv4.ip_forward=1",
                     "--shm-size", "2m", "--oom-score-adj", "300", "--security-opt",
                     "no-new-privileges", "busybox", "sh", "-c",
                     "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ulimit -n; "
                     "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; "
                     "grep ' /dev/shm ' /proc/mounts").stdout.splitlines()
    assert int(out[0].split()[1], 16) & 1 << 12  # CAP_NET_ADMIN
    assert out[1].split() == ["NoNewPrivs:", "1"]
    assert out[2:5] == ["1024", "1", "300"] and "size=2048k" in out[5]
    profile = tmp_path / "profile.json"  # the CLI sends the file's content
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    result = api.docker("run", "--rm", "--network", "none", "--security-opt",
                        f"seccomp={profile}", "busybox", "sh", "-c",
                        "mkdir /tmp/x 2>/dev/null || echo refused", check=False)
    assert result.stdout == "refused\n", result.stderr
    bad = api.docker("run", "--rm", "--network", "none", "--cap-add", "FOO", "busybox",
                     "true", check=False)
    assert bad.returncode == 125
    assert 'invalid CapAdd: unknown capability: "CAP_FOO"' in bad.stderr
