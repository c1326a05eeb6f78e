"""docker's create/run/ps/inspect/rm breadth through pyengined: --init, --network none|host,
-e KEY, --env-file, --label-file, limits, docker's exit codes (125, 126, 127) and messages for
bad input, each leaving nothing behind; ps filters, formats and sizes; inspect's shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]


def _inspect(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]


def _snapshots(engine: ContainerEngine) -> set[str]:
    root = engine.data_root / "snapshots" / "overlay" / "snapshots"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def _leftovers(engine: ContainerEngine, snapshots: set[str]) -> list[str]:
    """What a container leaves: records, bundles, log directories, writable snapshots (beyond
    `snapshots`, those there before), mounts under the engine's roots."""
    out = [f"container {cid}" for cid in engine.ids()]
    out += [f"snapshot {s}" for s in sorted(_snapshots(engine) - snapshots)]
    bundles = engine.exec_root / "containers"
    out += [f"bundle {p.name}" for p in bundles.iterdir()] if bundles.exists() else []
    logs = engine.data_root / "containers"
    out += [f"log {p.name}" for p in logs.iterdir()] if logs.exists() else []
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split()[4] for line in handle]
    out += [f"mount {m}" for m in mounts if m.startswith(str(bundles))]
    return out


def test_init_runs_dockers_init_as_pid_1(engine: ContainerEngine) -> None:
    result = engine.pyctl("run", "--rm", "--init", "busybox", "sh", "-c",
                          "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("/sbin/docker-init -- sh -c ")
    assert lines[1] != "1"  # the shell is the init's child
    cid = engine.out("run", "-d", "--init", "--name", "with-init", "busybox",
                     "sleep", "1000").strip()
    doc = _inspect(engine, cid)
    assert doc["HostConfig"]["Init"] is True
    assert (doc["Path"], doc["Args"]) == ("sleep", ["1000"])  # docker's: the command
    # docker's omitempty: no Init without --init
    assert "Init" not in _inspect(engine, engine.out("create", "busybox").strip())["HostConfig"]


def test_network_none_is_a_namespace_of_its_own_and_host_shares_the_daemons(
        engine: ContainerEngine) -> None:
    assert engine.process is not None
    daemon_ns = os.readlink(f"/proc/{engine.process.pid}/ns/net")
    none = engine.pyctl("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                        "readlink /proc/self/ns/net; ls /sys/class/net")
    own_ns, interfaces = none.stdout.decode().split("\n", 1)
    assert own_ns != daemon_ns and interfaces.split() == ["lo"]
    host = engine.pyctl("run", "--rm", "--network", "host", "busybox",
                        "readlink", "/proc/self/ns/net")
    assert (host.returncode, host.stdout.decode().strip()) == (0, daemon_ns)
    cid = engine.out("create", "--network", "host", "busybox").strip()
    assert _inspect(engine, cid)["HostConfig"]["NetworkMode"] == "host"


def test_env_from_the_client_and_label_files(engine: ContainerEngine, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nFROM_FILE=1\nBARE_IN_FILE\n")
    labels = tmp_path / "labels"
    labels.write_text("# comment\ntier=back\nbare\n")
    result = engine.pyctl(
        "run", "--rm", "-e", "FROM_CLIENT", "-e", "NOT_IN_CLIENT", "--env-file", str(env_file),
        "--label-file", str(labels), "-l", "tier=front", "busybox", "sh", "-c",
        "echo $FROM_CLIENT $FROM_FILE $BARE_IN_FILE ${NOT_IN_CLIENT-unset}",
        extra_env={"FROM_CLIENT": "client", "BARE_IN_FILE": "bare"})
    assert result.stdout == b"client 1 bare unset\n", result.stderr
    cid = engine.out("create", "--label-file", str(labels), "-l", "tier=front", "busybox")
    assert _inspect(engine, cid.strip())["Config"]["Labels"] == {"tier": "front", "bare": ""}


# (flags, message, the daemon refuses it): docker's client refuses a value it cannot parse
# (125 from create and run); a value the daemon refuses is 125 from run, 1 from create
@pytest.mark.parametrize(("flags", "message", "daemon"), [
    (["-m", "1x"], 'invalid argument "1x" for "-m, --memory" flag: invalid size: \'1x\'',
     False),
    (["-m", "1m"], "Minimum memory limit allowed is 6MB", True),
    (["--cpus", "abc"], 'invalid argument "abc" for "--cpus" flag', False),
    (["--cpus", "4096"], "Range of CPUs is from 0.01 to ", True),
    (["--pids-limit", "many"], 'invalid argument "many" for "--pids-limit" flag', False),
    (["--stop-timeout", "soon"], 'invalid argument "soon" for "--stop-timeout" flag', False),
    (["--stop-signal", "NOPE"], "Invalid signal: NOPE", True),
    (["--network", "bogus"], "network bogus not found", True),
    (["--restart", "sometimes"], "invalid restart policy 'sometimes'", True),
])
def test_bad_flag_values_are_refused_and_leave_nothing(
        engine: ContainerEngine, flags: list[str], message: str, daemon: bool) -> None:
    before = _snapshots(engine)
    for verb in ("create", "run"):
        result = engine.pyctl(verb, *flags, "busybox", "true")
        assert result.returncode == (1 if daemon and verb == "create" else 125), \
            (verb, result.stderr)
        assert message in result.stderr.decode(), (verb, result.stderr)
        assert _leftovers(engine, before) == []


def test_cpus_range_names_the_cpus_there_are(engine: ContainerEngine) -> None:
    cpus = len(os.sched_getaffinity(0))
    result = engine.pyctl("run", "--rm", "--cpus", str(cpus + 1), "busybox", "true")
    assert f"Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs " \
           "available" in result.stderr.decode()


def test_a_name_taken_is_dockers_conflict(engine: ContainerEngine) -> None:
    first = engine.out("create", "--name", "taken", "busybox").strip()
    for verb, code in (("create", 1), ("run", 125)):  # docker's codes for a daemon error
        result = engine.pyctl(verb, "--name", "taken", "busybox", "true")
        assert result.returncode == code
        assert (f'Conflict. The container name "/taken" is already in use by container '
                f'"{first}". You have to remove (or rename) that container to be able to '
                "reuse that name.") in result.stderr.decode()
    assert engine.ids() == [first]


def test_unknown_image_after_a_failed_pull(engine: ContainerEngine) -> None:
    before = _snapshots(engine)
    for verb, code in (("create", 1), ("run", 125)):
        result = engine.pyctl(verb, "127.0.0.1:1/no-such-image", "true")
        assert result.returncode == code
        assert result.stderr.startswith(
            b"Unable to find image '127.0.0.1:1/no-such-image:latest' locally\n")
        assert b"Error response from daemon" in result.stderr
        assert _leftovers(engine, before) == []


def test_missing_executable_127_and_permission_denied_126(engine: ContainerEngine) -> None:
    before = _snapshots(engine)
    missing = engine.pyctl("run", "--rm", "busybox", "nope")
    assert missing.returncode == 127
    assert b'exec: "nope": executable file not found in $PATH' in missing.stderr
    denied = engine.pyctl("run", "--rm", "busybox", "/etc/passwd")
    assert denied.returncode == 126
    assert b"permission denied" in denied.stderr.lower()
    assert _leftovers(engine, before) == []
    # without --rm the container stays, created, with docker's exit code
    result = engine.pyctl("run", "--name", "kept", "busybox", "nope")
    assert result.returncode == 127
    doc = _inspect(engine, "kept")
    assert (doc["State"]["Status"], doc["State"]["ExitCode"]) == ("created", 127)
    engine.out("rm", "kept")
    assert _leftovers(engine, before) == []


def test_exec_into_a_stopped_container_and_rm_of_a_running_one(
        engine: ContainerEngine) -> None:
    before = _snapshots(engine)
    cid = engine.out("create", "--name", "idle", "busybox", "sleep", "1000").strip()
    result = engine.pyctl("exec", "idle", "true")
    assert result.returncode == 1
    assert result.stderr.decode() == \
        f"Error response from daemon: Container {cid} is not running\n"
    engine.out("start", "idle")
    result = engine.pyctl("rm", "-v", "idle")
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"Error response from daemon: You cannot remove a running container {cid}. Stop the "
        "container before attempting removal or force remove\n")
    assert engine.out("rm", "-v", "-f", "idle") == "idle\n"
    assert _leftovers(engine, before) == []


def test_inspect_has_dockers_shape(engine: ContainerEngine) -> None:
    cid = engine.out(
        "run", "-d", "--name", "shape", "-m", "64m", "--cpus", "0.5", "--pids-limit", "50",
        "--read-only", "--restart", "on-failure:3", "--stop-signal", "SIGUSR1",
        "--stop-timeout", "5", "-l", "a=b", "-e", "X=1", "-w", "/tmp", "-u", "1000",
        "-h", "box", "-t", "busybox", "sleep", "1000").strip()
    doc = _inspect(engine, "shape")
    assert (doc["Id"], doc["Name"], doc["Driver"], doc["Platform"], doc["RestartCount"]) == \
        (cid, "/shape", "overlay2", "linux", 0)
    # docker's GraphDriver: the container's overlay directories (the image's layers below)
    data = doc["GraphDriver"]["Data"]
    assert doc["GraphDriver"]["Name"] == "overlay2" and Path(data["UpperDir"]).is_dir()
    assert all(Path(lower).is_dir() for lower in data.get("LowerDir", "").split(":") if lower)
    assert data["MergedDir"].endswith(f"/{cid}/rootfs")
    host = doc["HostConfig"]
    assert {k: host.get(k) for k in ("Memory", "NanoCpus", "PidsLimit", "ReadonlyRootfs",
                                     "Init", "NetworkMode", "AutoRemove")} == {
        "Memory": 64 << 20, "NanoCpus": 500_000_000, "PidsLimit": 50, "ReadonlyRootfs": True,
        "Init": None, "NetworkMode": "default", "AutoRemove": False}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["LogConfig"]["Type"] == "json-file" and host["Runtime"]
    config = json.loads(engine.out("inspect", "-f", "{{json .Config}}", "shape"))
    assert {k: config[k] for k in ("Hostname", "User", "Cmd", "Image", "WorkingDir",
                                   "Entrypoint", "Labels", "Tty", "OpenStdin",
                                   "StopSignal")} == {
        "Hostname": "box", "User": "1000", "Cmd": ["sleep", "1000"], "Image": "busybox",
        "WorkingDir": "/tmp", "Entrypoint": None, "Labels": {"a": "b"}, "Tty": True,
        "OpenStdin": False, "StopSignal": "SIGUSR1"}
    assert "X=1" in config["Env"]
    other = engine.out("create", "--name", "other", "busybox").strip()
    shown = engine.out("inspect", "-f", "{{.Name}} {{.State.Pid}} {{.State.ExitCode}} "
                       "[{{.NetworkSettings.IPAddress}}]", "shape", "other").splitlines()
    assert shown[0].startswith("/shape ") and shown[0].split()[1] != "0"
    assert shown[1] == "/other 0 0 []"
    result = engine.pyctl("inspect", "--type", "image", "shape")
    assert result.returncode == 1 and b"No such image: shape" in result.stderr
    image = json.loads(engine.out("inspect", "--type", "image", "busybox"))[0]
    assert image["Id"].startswith("sha256:")
    result = engine.pyctl("inspect", "--type", "container", "busybox")
    assert result.returncode == 1 and b"No such container: busybox" in result.stderr
    engine.out("rm", "-f", cid, other)


def test_ps_filters_formats_and_sizes(engine: ContainerEngine) -> None:
    first = engine.pyctl("run", "--name", "ps-one", "-l", "k=v", "busybox", "sh", "-c",
                         "exit 3")
    assert (first.returncode, first.stdout) == (3, b"")
    one = engine.out("ps", "-aq", "--no-trunc", "-f", "name=ps-one").strip()
    two = engine.out("run", "-d", "--name", "ps-two", "busybox", "sh", "-c",
                     "head -c 1000 /dev/zero > /written; sleep 1000").strip()
    engine.out("exec", "ps-two", "test", "-f", "/written")
    three = engine.out("create", "--name", "ps-three", "busybox").strip()

    def names(*args: str) -> list[str]:
        return engine.out("ps", "--format", "{{.Names}}", *args).split()

    assert names() == ["ps-two"]
    assert names("-a") == ["ps-three", "ps-two", "ps-one"]
    assert names("-a", "-f", "exited=3") == ["ps-one"]
    assert names("-f", "status=created") == ["ps-three"]
    assert names("-f", "before=ps-two") == ["ps-one"]
    assert names("-f", "since=ps-one") == ["ps-three", "ps-two"]
    assert names("-a", "-f", "label=k=v") == ["ps-one"]
    assert names("-a", "-f", "ancestor=busybox:latest") == ["ps-three", "ps-two", "ps-one"]
    assert names("-a", "-f", "health=none", "-f", "id=" + one[:6]) == ["ps-one"]
    assert names("-n", "2") == ["ps-three", "ps-two"] and names("-l") == ["ps-three"]
    assert engine.out("ps", "-q") == two[:12] + "\n"
    assert engine.out("ps", "-aq", "--no-trunc", "-f", "name=ps-three") == three + "\n"
    result = engine.pyctl("ps", "-f", "status=up")
    assert result.returncode == 1
    assert b"Invalid filter 'status=up'" in result.stderr  # dockerd 20.10's text
    table = engine.out("ps", "-a", "--format", 'table {{.ID}}\t{{.Label "k"}}\t{{.Status}}',
                       "-f", "name=ps-one").splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "LABEL", "STATUS"]
    assert table[1].split()[:3] == [one[:12], "v", "Exited"]
    sized = engine.out("ps", "-s").splitlines()
    assert sized[0].split()[-1] == "SIZE"
    size = engine.out("ps", "--format", "{{.Size}}", "-f", "name=ps-two").strip()
    assert size.startswith("1kB (virtual ") and size.endswith("B)"), size
    command = engine.out("ps", "--format", "{{.Command}}|{{.Image}}", "-f",
                         "name=ps-two").strip()
    # docker quotes an argument with spaces in single quotes, then cuts at 20 characters
    assert command == '"sh -c \'head -c 1000…"|busybox'
    engine.out("rm", "-f", one, two, three)
