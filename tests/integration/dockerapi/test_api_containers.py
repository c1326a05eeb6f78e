"""The /containers endpoints through the Docker Engine API: the docker CLI 28 for the verbs
(create/start/stop/kill/restart/pause/unpause/wait/rm/ps/inspect/top/rename/update/prune/
commit/port/run -d -p), raw HTTP for docker's statuses and texts."""

from __future__ import annotations

import json
import threading
import urllib.parse
from pathlib import Path

from api_harness import DockerApi, tar_of


def _read_port(port: int) -> bytes:
    """What a container's listener on a published port sends (retried until it listens)."""
    import socket
    import time

    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
                if data:
                    return data
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def run_d(api: DockerApi, *args: str) -> str:
    return api.docker("run", "-d", *args).stdout.strip()


def inspect(api: DockerApi, ref: str, template: str) -> str:
    return api.docker("inspect", "-f", template, ref).stdout.strip()


def test_lifecycle_through_the_cli(api: DockerApi) -> None:
    cid = api.docker("create", "--name", "c1", "-l", "team=a", "busybox",
                     "sleep", "300").stdout.strip()
    assert len(cid) == 64
    assert inspect(api, "c1", "{{.State.Status}} {{.Config.Labels.team}}") == "created a"
    api.docker("start", "c1")
    assert inspect(api, "c1", "{{.State.Running}}") == "true"
    api.docker("pause", "c1")
    assert api.docker("ps", "--format", "{{.Names}} {{.State}}").stdout.split() == \
        ["c1", "paused"]
    api.docker("unpause", "c1")
    api.docker("restart", "-t", "1", "c1")
    assert inspect(api, "c1", "{{.State.Status}}") == "running"
    api.docker("kill", "c1")
    assert api.docker("wait", "c1").stdout.strip() == "137"
    api.docker("start", "c1")
    api.docker("stop", "-t", "1", "c1")
    assert inspect(api, "c1", "{{.State.Status}}") == "exited"
    api.docker("rename", "c1", "c2")
    assert api.docker("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["c2"]
    api.docker("rm", "c2")
    assert api.docker("ps", "-aq").stdout.strip() == ""


def test_docker_texts_and_statuses(api: DockerApi) -> None:
    nosuch = api.http("POST", "/v1.41/containers/nosuch/start")
    assert (nosuch.status, nosuch.json()) == (404, {"message": "No such container: nosuch"})
    bad = api.docker("start", "nosuch", check=False)
    assert bad.returncode == 1
    assert "No such container: nosuch" in bad.stderr
    cid = run_d(api, "--name", "r1", "busybox", "sleep", "300")
    assert api.http("POST", f"/containers/{cid}/start").status == 304
    conflict = api.http("POST", "/containers/create?name=r1", {"Image": "busybox"})
    assert conflict.status == 409
    assert 'The container name "/r1" is already in use' in conflict.json()["message"]
    running = api.http("DELETE", f"/containers/{cid}")
    assert running.status == 409
    assert running.json()["message"].startswith("You cannot remove a running container")
    assert api.http("POST", f"/containers/{cid}/stop?t=1").status == 204
    assert api.http("POST", f"/containers/{cid}/stop").status == 304
    kill = api.http("POST", f"/containers/{cid}/kill")
    assert (kill.status, kill.json()["message"]) == (
        409, f"Cannot kill container: {cid}: Container {cid} is not running")
    assert api.http("DELETE", "/containers/r1").status == 204
    noimage = api.http("POST", "/containers/create", {"Image": "nosuchimage"})
    assert (noimage.status, noimage.json()) == (
        404, {"message": "No such image: nosuchimage:latest"})
    conflicting = api.http("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {"NanoCpus": 10**9, "CpuQuota": 5000}})
    assert (conflicting.status, conflicting.json()["message"]) == (
        400, "Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    refused = api.http("POST", "/containers/create",
                       {"Image": "busybox", "HostConfig": {"UsernsMode": "host"}})
    assert refused.status == 400
    assert "UsernsMode" in refused.json()["message"]
    badkey = api.http("GET", "/containers/json?filters=" + urllib.parse.quote(
        json.dumps({"bogus": ["x"]})))
    assert (badkey.status, badkey.json()["message"]) == (400, "Invalid filter 'bogus'")
    nopath = api.http("GET", f"/containers/{cid}/archive")
    assert (nopath.status, nopath.json()["message"]) == (
        400, "bad parameter: pathcannot be empty")  # dockerd 20.10's text, as it is


def test_create_body_becomes_the_spec(api: DockerApi) -> None:
    body = {
        "Image": "busybox", "Cmd": ["sleep", "300"], "Env": ["A=1"], "WorkingDir": "/tmp",
        "Hostname": "box", "Labels": {"k": "v"}, "StopSignal": "SIGUSR1", "StopTimeout": 3,
        "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 2_000_000_000},
        "HostConfig": {"Memory": 64 << 20, "PidsLimit": 50, "CpuShares": 512,
                       "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                       "Tmpfs": {"/run/t": "size=1m"}, "ReadonlyRootfs": True,
                       "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}},
                       "MemorySwappiness": -1, "NetworkMode": "default",
                       "Mounts": [{"Type": "volume", "Target": "/vol"}]},
    }
    reply = api.http("POST", "/v1.41/containers/create?name=spec1", body)
    assert reply.status == 201, reply.text
    assert reply.json()["Warnings"] == []
    doc = api.http("GET", "/containers/spec1/json").json()
    config, host = doc["Config"], doc["HostConfig"]
    assert "A=1" in config["Env"]
    assert (config["WorkingDir"], config["Hostname"], config["Labels"]["k"]) == \
        ("/tmp", "box", "v")
    assert (config["StopSignal"], config["StopTimeout"]) == ("SIGUSR1", 3)
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert (host["Memory"], host["PidsLimit"], host["CpuShares"]) == (64 << 20, 50, 512)
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert host["ReadonlyRootfs"] is True
    assert sorted(m["Destination"] for m in doc["Mounts"]) == ["/data", "/vol"]
    assert host["Tmpfs"] == {"/run/t": "size=1m"}
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m"}}
    assert "MemorySwappiness" in host and host["MemorySwappiness"] is None  # docker's unset
    warned = api.http("POST", "/containers/create",
                      {"Image": "busybox", "HostConfig": {"KernelMemory": 1 << 20}})
    assert warned.status == 201
    assert warned.json()["Warnings"] == [
        "pyengined does not support HostConfig.KernelMemory: it was ignored"]


def test_ps_filters_and_formats(api: DockerApi) -> None:
    run_d(api, "--name", "f1", "-l", "tier=web", "busybox", "sleep", "300")
    api.docker("create", "--name", "f2", "busybox", "true")
    run_d(api, "--name", "f3", "busybox", "sh", "-c", "exit 3")
    assert api.docker("wait", "f3").stdout.strip() == "3"
    names = lambda *a: api.docker("ps", *a, "--format", "{{.Names}}").stdout.split()  # noqa: E731
    assert names() == ["f1"]
    assert names("-a") == ["f3", "f2", "f1"]
    assert names("-a", "--filter", "label=tier=web") == ["f1"]
    assert names("-a", "--filter", "status=created") == ["f2"]
    assert names("-a", "--filter", "exited=3") == ["f3"]
    assert names("-a", "--filter", "name=f2") == ["f2"]
    assert names("--filter", "before=f3", "-a") == ["f2", "f1"]
    assert names("--filter", "since=f1", "-a") == ["f3", "f2"]
    assert names("-a", "--filter", "ancestor=busybox") == ["f3", "f2", "f1"]
    assert names("-n", "1") == ["f3"]
    line = api.docker("ps", "--format", "{{.Command}}|{{.Status}}|{{.Labels}}").stdout.strip()
    assert line.startswith('"sleep 300"|Up ')
    assert line.endswith("|tier=web")
    listed = api.http("GET", "/containers/json?all=1&size=1&filters=" + urllib.parse.quote(
        json.dumps({"name": ["f1"]}))).json()
    assert [c["Names"] for c in listed] == [["/f1"]]
    entry = listed[0]
    assert entry["State"] == "running"
    assert entry["HostConfig"] == {"NetworkMode": "default"}
    assert "bridge" in entry["NetworkSettings"]["Networks"]
    assert entry["SizeRw"] >= 0 and entry["SizeRootFs"] > 0
    bad = api.http("GET", "/containers/json?filters=" + urllib.parse.quote(
        json.dumps({"status": ["bogus"]})))
    assert (bad.status, bad.json()["message"]) == (
        400, "Invalid filter 'status=bogus'")


def test_wait_answers_headers_first(api: DockerApi) -> None:
    cid = run_d(api, "busybox", "sleep", "300")
    got: dict[str, object] = {}
    ready = threading.Event()

    def waiter() -> None:
        from api_harness import UnixConnection

        connection = UnixConnection(api.socket, 120)
        connection.request("POST", f"/containers/{cid}/wait?condition=not-running")
        answer = connection.getresponse()  # the status line and headers come first
        got["status"] = answer.status
        ready.set()
        got["body"] = json.loads(answer.read())
        connection.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert ready.wait(60)
    assert got["status"] == 200 and "body" not in got
    api.docker("kill", cid)
    thread.join(60)
    assert got["body"] == {"StatusCode": 137, "Error": None}


def test_top_update_port_commit_prune(api: DockerApi) -> None:
    run_d(api, "--name", "t1", "-p", "127.0.0.1:18080:80", "busybox", "sleep", "300")
    top = api.docker("top", "t1").stdout.splitlines()
    assert top[0].split()[0] == "UID"
    assert any("sleep 300" in line for line in top[1:])
    assert api.docker("port", "t1").stdout.strip() == "80/tcp -> 127.0.0.1:18080"
    assert api.docker("ps", "--format", "{{.Ports}}").stdout.strip() == \
        "127.0.0.1:18080->80/tcp"
    api.docker("update", "--memory", "32m", "--memory-swap", "64m", "--restart", "always", "t1")
    assert inspect(api, "t1", "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}") == \
        f"{32 << 20} always"
    api.docker("update", "--restart", "no", "t1")
    image = api.docker("commit", "-c", "ENV X=1", "t1", "committed:v1").stdout.strip()
    assert image.startswith("sha256:")
    env = api.docker("image", "inspect", "-f", "{{.Config.Env}}", "committed:v1", check=False)
    if env.returncode == 0:  # image inspect is A-images'
        assert "X=1" in env.stdout
    api.docker("rm", "-f", "t1")
    api.docker("create", "--name", "p1", "-l", "keep=1", "busybox")
    p2 = api.docker("create", "--name", "p2", "busybox").stdout.strip()
    assert api.docker("container", "prune", "-f", "--filter", "until=1h").stdout == \
        "Total reclaimed space: 0B\n"  # both are younger than an hour
    out = api.docker("container", "prune", "-f", "--filter", "label!=keep").stdout
    assert out.startswith(f"Deleted Containers:\n{p2}\n")
    assert api.docker("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["p1"]
    bad = api.docker("container", "prune", "-f", "--filter", "until=bogus", check=False)
    assert bad.returncode == 1
    assert api.docker("container", "prune", "-f").stdout.startswith("Deleted Containers:")
    assert api.docker("ps", "-aq").stdout.strip() == ""


def test_run_publish_and_remove(api: DockerApi) -> None:
    cid = run_d(api, "--rm", "-p", "18081:80", "busybox", "sh", "-c",
                "echo hi | nc -l -p 80")
    assert inspect(api, cid, "{{.HostConfig.AutoRemove}}") == "true"
    assert _read_port(18081) == b"hi\n"
    removed = api.http("POST", f"/containers/{cid}/wait?condition=removed")
    assert removed.status in (200, 404)  # 404: gone before the wait began
    assert api.docker("ps", "-aq").stdout.strip() == ""


def test_cli_create_flags_arrive_without_warnings(api: DockerApi) -> None:
    """What the docker CLI 28 sends for its create flags is understood: nothing refused,
    nothing warned about, and inspect shows it."""
    made = api.docker(
        "create", "--name", "flags1", "--cpus", "1", "-m", "64m", "--memory-swap", "128m",
        "--cpu-shares", "100", "--cpuset-cpus", "0", "--pids-limit", "10", "--init",
        "--read-only", "--restart", "on-failure:2", "--log-opt", "max-size=1m",
        "--log-opt", "max-file=2", "--stop-signal", "USR1", "--stop-timeout", "3",
        "--health-cmd", "true", "--health-interval", "5s", "--tmpfs", "/t",
        "--mount", "type=tmpfs,target=/m", "-v", "/data", "-e", "A=1", "-w", "/tmp",
        "-h", "box", "--add-host", "h:1.2.3.4", "--dns", "1.1.1.1", "--expose", "81", "-P",
        "--entrypoint", "sh", "busybox", "-c", "sleep 300")
    assert made.stderr == ""
    got = inspect(api, "flags1", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} "
                  "{{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} "
                  "{{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.Init}} "
                  "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.RestartPolicy.Name}} "
                  "{{.Config.StopSignal}} {{.Config.StopTimeout}} {{.Config.Hostname}} "
                  "{{.Config.Entrypoint}} {{.Config.Cmd}} {{.HostConfig.ExtraHosts}} "
                  "{{.HostConfig.Dns}} {{.HostConfig.PublishAllPorts}}")
    assert got == (f"1000000000 {64 << 20} {128 << 20} 100 0 10 true true on-failure USR1 3 "
                   "box [sh] [-c sleep 300] [h:1.2.3.4] [1.1.1.1] true")
    api.docker("start", "flags1")
    assert inspect(api, "flags1", "{{.State.Running}}") == "true"
    ports = api.docker("port", "flags1").stdout
    assert ports.startswith("81/tcp -> 0.0.0.0:")


def test_ps_volume_filter_and_sizes(api: DockerApi) -> None:
    run_d(api, "--name", "v1", "-v", "fvol:/m", "-v", "/data", "busybox", "sleep", "300")
    run_d(api, "--name", "v2", "busybox", "sh", "-c", "echo 12345 > /f; sleep 300")
    names = lambda *a: api.docker("ps", *a, "--format", "{{.Names}}").stdout.split()  # noqa: E731
    assert names("--filter", "volume=fvol") == ["v1"]
    assert names("--filter", "volume=/data") == ["v1"]
    assert names("--filter", "volume=nosuch") == []
    shown = api.docker("ps", "--filter", "name=v1", "--format",
                       "{{.Networks}}|{{.Mounts}}").stdout.strip()
    networks, mounts = shown.split("|")
    assert networks == "bridge"
    assert "fvol" in mounts.split(",")
    sizes = api.docker("ps", "-s", "--format", "{{.Names}} {{.Size}}").stdout.splitlines()
    assert sizes[-1].startswith("v1 0B (virtual ")
    assert sizes[0].split()[0] == "v2"


def test_docker_py_containers(api: DockerApi) -> None:
    client = api.client()
    try:
        c = client.containers.run("busybox", ["sleep", "300"], detach=True, name="py1",
                                  labels={"via": "py"}, mem_limit="64m",
                                  ports={"80/tcp": ("127.0.0.1", 18082)})
        c.reload()
        assert c.status == "running"
        assert c.attrs["HostConfig"]["Memory"] == 64 << 20
        assert c.ports == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18082"}]}
        assert [x.name for x in client.containers.list(filters={"label": "via=py"})] == ["py1"]
        assert "sleep 300" in " ".join(" ".join(p) for p in c.top()["Processes"])
        one = c.stats(stream=False)
        assert one["memory_stats"]["limit"] == 64 << 20
        c.put_archive("/tmp", tar_of("hello.txt", b"hello\n"))
        chunks, found = c.get_archive("/tmp/hello.txt")
        assert (found["name"], found["size"]) == ("hello.txt", 6)
        assert b"hello\n" in b"".join(chunks)
        assert {"Path": "/tmp/hello.txt", "Kind": 1} in c.diff()
        c.update(mem_limit="32m", memswap_limit="64m")
        c.pause()
        c.unpause()
        c.kill()
        assert c.wait() == {"StatusCode": 137, "Error": None}
        image = c.commit("pycommit", "v1")
        assert image.id.startswith("sha256:")
        assert image.tags == ["pycommit:v1"]
        pruned = client.containers.prune()
        assert pruned["ContainersDeleted"] == [c.id]
    finally:
        client.close()




def test_failed_start_of_rm_container_removes_it(api: DockerApi) -> None:
    """dockerd removes an AutoRemove container whose start failed (the docker CLI waits on
    wait?condition=removed for it) and the CLI maps the runtime's message to 127."""
    run = api.docker("run", "--rm", "--name", "rm-fails", "busybox", "nosuchcmd", check=False,
                     timeout=60)  # without the removal the CLI waits for ever
    assert run.returncode == 127, run.stderr
    assert run.stderr.startswith("docker: Error response from daemon: "), run.stderr
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in run.stderr
    assert api.http("GET", "/containers/rm-fails/json").status == 404


def test_kill_returns_once_stopped(api: DockerApi) -> None:
    """dockerd's KILL answers after the exit: a second kill is 409 "not running"."""
    cid = run_d(api, "busybox", "sleep", "300")
    try:
        assert api.http("POST", f"/containers/{cid}/kill").status == 204
        again = api.http("POST", f"/containers/{cid}/kill")
        assert (again.status, again.json()["message"]) == (
            409, f"Cannot kill container: {cid}: Container {cid} is not running")
    finally:
        api.http("DELETE", f"/containers/{cid}?force=1")


def test_docker_init_layer_is_in_the_rootfs_not_in_diff(api: DockerApi) -> None:
    """dockerd's init layer: /.dockerenv, /etc/mtab -> /proc/mounts, dev/console, dev/pts/,
    dev/shm/ are in the container's files (export, cp) but not in its changes or size."""
    import io
    import subprocess
    import tarfile

    cid = api.docker("create", "busybox", "true").stdout.strip()
    try:
        exported = subprocess.run(["docker", "export", cid], env=api.env(),
                                  capture_output=True, check=True, timeout=120).stdout
        with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
            members = {m.name.rstrip("/"): m for m in tar.getmembers()}
        assert members[".dockerenv"].isfile() and members[".dockerenv"].size == 0
        assert (members["etc/mtab"].issym(), members["etc/mtab"].linkname) == (
            True, "/proc/mounts")
        assert members["dev/pts"].isdir() and members["dev/shm"].isdir()
        assert members["dev/console"].isfile()
        assert api.docker("diff", cid).stdout == ""
        assert api.docker("ps", "-a", "-s", "--filter", f"id={cid}",
                          "--format", "{{.Size}}").stdout.startswith("0B")
    finally:
        api.http("DELETE", f"/containers/{cid}?force=1")


def test_an_unknown_user_fails_the_start_not_the_create(api: DockerApi, tmp_path: Path) -> None:
    """dockerd resolves --user (and the image's USER) at start: create succeeds, start fails
    with docker's text (State.Error, exit code 128, still "created") until the container's
    /etc/passwd names the user; then the process runs as that user with its home (a --link's
    environment, made at start, keeps it)."""
    target = run_d(api, "busybox", "sleep", "300")
    created = api.docker("create", "--name", "late-user", "--user", "late:late", "--link",
                         f"{target}:peer", "busybox", "sh", "-c",
                         'echo "$(id -u):$(id -g) $HOME $PEER_NAME"')
    try:
        started = api.docker("start", "-a", "late-user", check=False)
        assert started.returncode == 1
        assert "unable to find user late: no matching entries in passwd file" in started.stderr
        state = api.http("GET", "/containers/late-user/json").json()["State"]
        assert (state["Status"], state["ExitCode"]) == ("created", 128)
        assert state["Error"] == "unable to find user late: no matching entries in passwd file"
        for name, line in (("passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                      "late:x:4321:4321::/home/late:/bin/sh\n"),
                           ("group", "root:x:0:\nlate:x:4321:\n")):
            (tmp_path / name).write_text(line)
            api.docker("cp", str(tmp_path / name), f"late-user:/etc/{name}")
        again = api.docker("start", "-a", "late-user")
        assert again.stdout == "4321:4321 /home/late /late-user/peer\n"
        # the image's USER is looked up alike (it does not run as root instead)
        api.docker("commit", "--change", "USER ghost", "late-user", "ghost-user:1")
        ghost = api.docker("run", "--rm", "ghost-user:1", "id", "-u", check=False)
        assert ghost.returncode == 125
        assert "unable to find user ghost: no matching entries in passwd file" in ghost.stderr
    finally:
        api.docker("rm", "-f", created.stdout.strip(), target, check=False)
        api.docker("rmi", "ghost-user:1", check=False)
