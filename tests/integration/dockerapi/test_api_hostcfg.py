"""Containers' HostConfig as dockerd 20.10 takes it (docker-py's hostcfg tests): PidMode, UTSMode,
IpcMode and CgroupnsMode (host, private, container:<id>), GroupAdd, DeviceCgroupRules, the none
log driver, VolumeDriver and an Env entry without "=". Through the docker CLI 28 and raw HTTP;
what the process sees is read inside the container (its namespaces against the daemon's, which
are this test's own: the daemon runs in the module's network namespace only)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from api_harness import DockerApi
from ctr_harness import ContainerEngine


def _out(api: DockerApi, *args: str) -> str:
    return api.docker(*args).stdout.strip()


def _ns(kind: str) -> str:
    return os.readlink(f"/proc/self/ns/{kind}")


def _create(api: DockerApi, host_config: dict, **config: object) -> tuple[int, dict]:
    reply = api.http("POST", "/v1.41/containers/create",
                     {"Image": "busybox", "Cmd": ["true"], **config, "HostConfig": host_config})
    return reply.status, reply.json()


def test_pid_host_and_container_modes(api: DockerApi) -> None:
    assert _out(api, "run", "--rm", "--pid", "host", "busybox", "readlink",
                "/proc/self/ns/pid") == _ns("pid")
    donor = _out(api, "run", "-d", "--name", "donor", "busybox", "sleep", "300")
    donor_ns = _out(api, "exec", "donor", "readlink", "/proc/self/ns/pid")
    assert donor_ns != _ns("pid")
    joiner = _out(api, "create", "--pid", "container:donor", "busybox", "sh", "-c",
                  "readlink /proc/self/ns/pid; ps -o comm")
    assert _out(api, "inspect", "-f", "{{.HostConfig.PidMode}}", joiner) == \
        f"container:{donor}"  # dockerd names the target by its id
    seen = _out(api, "start", "-a", joiner).splitlines()
    assert seen[0] == donor_ns and "sleep" in seen  # the donor's processes are its own
    host = _out(api, "create", "--pid", "host", "busybox", "true")
    assert _out(api, "inspect", "-f", "{{.HostConfig.PidMode}}", host) == "host"
    api.docker("stop", "-t", "0", "donor")
    stopped = api.http("POST", f"/v1.41/containers/{joiner}/start")
    assert stopped.status == 409
    assert stopped.json()["message"] == f"container {donor} is not running"
    status, body = _create(api, {"PidMode": "container:nosuch"})
    assert (status, body["message"]) == (404, "No such container: nosuch")


def test_uts_host_keeps_the_machines_hostname(api: DockerApi) -> None:
    cid = _out(api, "create", "--uts", "host", "busybox", "sh", "-c",
               "hostname; cat /etc/hostname; echo $HOSTNAME")
    assert _out(api, "inspect", "-f", "{{.HostConfig.UTSMode}} {{.Config.Hostname}}", cid) == \
        f"host {cid[:12]}"
    # as dockerd: the machine's name, the container's in /etc/hostname and $HOSTNAME
    assert _out(api, "start", "-a", cid).splitlines() == [socket.gethostname(), cid[:12],
                                                          cid[:12]]
    status, body = _create(api, {"UTSMode": "host"}, Hostname="foo")
    assert (status, body["message"]) == (400, "conflicting options: hostname and the UTS mode")


def test_ipc_modes(api: DockerApi) -> None:
    assert _out(api, "run", "--rm", "--ipc", "host", "busybox", "readlink",
                "/proc/self/ns/ipc") == _ns("ipc")
    assert _out(api, "run", "--rm", "--ipc", "none", "busybox", "sh", "-c",
                "grep -c ' /dev/shm ' /proc/mounts || true") == "0"
    assert _out(api, "inspect", "-f", "{{.HostConfig.IpcMode}}",
                _out(api, "create", "busybox", "true")) == "private"  # dockerd's default
    donor = _out(api, "run", "-d", "--ipc", "shareable", "busybox", "sh", "-c",
                 "echo shared > /dev/shm/mark; sleep 300")
    donor_ns = _out(api, "exec", donor, "readlink", "/proc/self/ns/ipc")
    api.docker("exec", donor, "sh", "-c", "while [ ! -e /dev/shm/mark ]; do sleep 0.1; done")
    joiner = _out(api, "create", "--ipc", f"container:{donor[:12]}", "busybox", "sh", "-c",
                  "readlink /proc/self/ns/ipc; cat /dev/shm/mark")
    for _ in range(2):  # the donor's namespace and /dev/shm again at a second start
        assert _out(api, "start", "-a", joiner).splitlines() == [donor_ns, "shared"]
    on_host = _out(api, "run", "-d", "--ipc", "host", "busybox", "sleep", "300")
    assert _out(api, "run", "--rm", "--ipc", f"container:{on_host}", "busybox", "readlink",
                "/proc/self/ns/ipc") == _ns("ipc")  # a host-IPC donor shares it (dockerd's)
    private = _out(api, "run", "-d", "busybox", "sleep", "300")
    refused = api.docker("run", "--rm", "--ipc", f"container:{private}", "busybox", "true",
                         check=False)
    assert refused.returncode != 0
    assert f"can't join IPC of container {private}: non-shareable IPC (hint: use " \
           "IpcMode:shareable for the donor container)" in refused.stderr
    status, body = _create(api, {"IpcMode": "bogus"})
    assert (status, body["message"]) == (400, "invalid IPC mode: bogus")


def test_cgroup_namespace_modes(api: DockerApi) -> None:
    unified = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    default = _out(api, "create", "busybox", "true")
    # dockerd 20.10's default: private on a cgroup v2 host, host on v1 and hybrid ones
    assert _out(api, "inspect", "-f", "{{.HostConfig.CgroupnsMode}}", default) == \
        ("private" if unified else "host")
    assert _out(api, "run", "--rm", "--cgroupns", "private", "busybox", "readlink",
                "/proc/self/ns/cgroup") != _ns("cgroup")
    # rooted at the container's own cgroups, every hierarchy (dockerd's shows "/" each)
    rooted = _out(api, "run", "--rm", "--cgroupns", "private", "busybox", "cat",
                  "/proc/self/cgroup").splitlines()
    assert rooted and all(line.endswith(":/") for line in rooted), rooted
    assert _out(api, "run", "--rm", "--cgroupns", "host", "busybox", "readlink",
                "/proc/self/ns/cgroup") == _ns("cgroup")
    status, body = _create(api, {"CgroupnsMode": "bogus"})
    assert (status, body["message"]) == (400, "invalid cgroup namespace mode: bogus")


def test_group_add(api: DockerApi) -> None:
    # names are looked up in the image's /etc/group (busybox's: daemon is 1), numbers as is
    cid = _out(api, "run", "-d", "--group-add", "daemon", "--group-add", "1000",
               "busybox", "sleep", "300")
    assert _out(api, "exec", cid, "id", "-G").split() == ["0", "1", "1000"]
    assert _out(api, "exec", "-u", "nobody", cid, "id", "-G").split()[-2:] == ["1", "1000"]
    assert _out(api, "inspect", "-f", "{{json .HostConfig.GroupAdd}}", cid) == \
        '["daemon","1000"]'
    # dockerd resolves them at each start: the create is made, its start fails (500, the
    # container stays "created" with exit code 128 and the error)
    for group, message in (("nosuch", "Unable to find group nosuch: no matching entries in "
                                      "group file"),
                           ("-1", "uids and gids must be in range 0-2147483647")):
        status, body = _create(api, {"GroupAdd": [group]})
        assert status == 201, body
        try:
            start = api.http("POST", f"/v1.41/containers/{body['Id']}/start")
            assert (start.status, start.json()["message"]) == (500, message)
            state = api.http("GET", f"/v1.41/containers/{body['Id']}/json").json()["State"]
            assert (state["Status"], state["ExitCode"], state["Error"]) == (
                "created", 128, message)
        finally:
            api.http("DELETE", f"/v1.41/containers/{body['Id']}?force=1")


def test_device_cgroup_rules(api: DockerApi, engine: ContainerEngine) -> None:
    cid = _out(api, "create", "--device-cgroup-rule", "c 7:128 rwm",
               "--device-cgroup-rule", "b *:* m", "busybox", "sleep", "300")
    assert _out(api, "inspect", "-f", "{{json .HostConfig.DeviceCgroupRules}}", cid) == \
        '["c 7:128 rwm","b *:* m"]'
    config = json.loads((engine.exec_root / "containers" / cid / "config.json").read_text())
    assert config["linux"]["resources"]["devices"][-2:] == [
        {"allow": True, "type": "c", "access": "rwm", "major": 7, "minor": 128},
        {"allow": True, "type": "b", "access": "m"}]
    api.docker("start", cid)
    v1_list = Path("/sys/fs/cgroup/devices/pyengine") / cid / "devices.list"
    if Path("/sys/fs/cgroup/devices").is_dir():  # cgroup v1: the kernel's list shows it
        assert "c 7:128 rwm" in v1_list.read_text().splitlines()
    for rule in ("x 1:2 r", "c 1:2", " c 1:3 r", "c 1:3 rwmr"):
        status, body = _create(api, {"DeviceCgroupRules": [rule]})
        assert (status, body["message"]) == (400,
                                             f"invalid device cgroup rule format: '{rule}'")


def test_none_log_driver(api: DockerApi, engine: ContainerEngine) -> None:
    # attached clients still get the output; nothing is kept, and reading it is refused
    assert _out(api, "run", "--name", "quiet", "--log-driver", "none", "busybox",
                "echo", "hi") == "hi"
    cid = _out(api, "inspect", "-f", "{{.Id}}", "quiet")
    assert _out(api, "inspect", "-f", "{{.HostConfig.LogConfig.Type}}", cid) == "none"
    assert not (engine.data_root / "containers" / cid / f"{cid}-json.log").exists()
    reply = api.http("GET", f"/v1.41/containers/{cid}/logs?stdout=1")
    assert (reply.status, reply.json()) == (
        501, {"message": "configured logging driver does not support reading"})
    logs = api.docker("logs", "quiet", check=False)
    assert logs.returncode == 1
    assert "configured logging driver does not support reading" in logs.stderr
    status, body = _create(api, {"LogConfig": {"Type": "bogus"}})
    assert (status, body["message"]) == (
        400, 'error looking up logging plugin bogus: plugin "bogus" not found')


def test_volume_driver(api: DockerApi) -> None:
    cid = _out(api, "create", "--volume-driver", "foo", "busybox", "true")
    assert _out(api, "inspect", "-f", "{{.HostConfig.VolumeDriver}}", cid) == "foo"
    local = _out(api, "create", "--volume-driver", "local", "-v", "/data", "busybox", "true")
    assert _out(api, "inspect", "-f", "{{(index .Mounts 0).Driver}}", local) == "local"
    status, body = _create(api, {"VolumeDriver": "foo", "Binds": ["named1:/data"]})
    assert (status, body["message"]) == (
        404, 'create named1: error looking up volume plugin foo: plugin "foo" not found')
    assert api.http("GET", "/v1.41/volumes/named1").status == 404  # nothing was made


def test_env_entry_without_value_unsets(api: DockerApi) -> None:
    status, body = _create(api, {}, Env=["Foo", "Other=one", "PATH", "Blank="],
                           Cmd=["/bin/busybox", "env"])
    assert status == 201
    cid = body["Id"]
    assert json.loads(_out(api, "inspect", "-f", "{{json .Config.Env}}", cid)) == \
        ["Foo", "Other=one", "PATH", "Blank="]  # as given (dockerd's Config.Env)
    env = _out(api, "start", "-a", cid).splitlines()
    assert "Other=one" in env and "Blank=" in env
    assert not any(e.startswith(("Foo", "PATH=")) for e in env)  # unset, as dockerd does
