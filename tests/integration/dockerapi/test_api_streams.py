"""The hijacked and streamed container I/O of the Docker Engine API: exec (create, start over
the upgraded connection, inspect, resize), attach, logs; raw HTTP (stream_client.py) for the
protocol's details, the docker CLI 28 (under a pty where it wants a terminal) and docker-py."""

from __future__ import annotations

import json
import re
import subprocess

from api_harness import DockerApi
from ctr_harness import ContainerEngine
from stream_client import demux, joined, open_stream

from tests.fixtures.terminal import Terminal


def run_detached(engine: ContainerEngine, *args: str) -> str:
    result = engine.pyctl("run", "-d", *args, check=True)
    return result.stdout.decode().strip()


def exec_create(api: DockerApi, cid: str, cmd: list[str], **config: object) -> str:
    reply = api.http("POST", f"/v1.41/containers/{cid}/exec", {"Cmd": cmd, **config})
    assert reply.status == 201, reply.text
    return reply.json()["Id"]


def test_exec_start_hijacks_and_half_close_ends_stdin_only(engine: ContainerEngine,
                                                          api: DockerApi) -> None:
    cid = run_detached(engine, "busybox", "sleep", "600")
    exec_id = exec_create(api, cid, ["sh", "-c", "cat; echo done >&2; exit 3"],
                          AttachStdin=True, AttachStdout=True, AttachStderr=True)
    stream = open_stream(api.socket, "POST", f"/v1.41/exec/{exec_id}/start",
                         {"Detach": False, "Tty": False})
    try:
        assert stream.head == (b"HTTP/1.1 101 UPGRADED\r\n"
                               b"Content-Type: application/vnd.docker.raw-stream\r\n"
                               b"Connection: Upgrade\r\nUpgrade: tcp")
        stream.send(b"hello\n")
        stream.close_write()  # the process' stdin ends; its output still comes
        frames = demux(stream.read_all())
    finally:
        stream.close()
    assert joined(frames, "stdout") == b"hello\n"
    assert joined(frames, "stderr") == b"done\n"
    inspect = api.http("GET", f"/exec/{exec_id}/json").json()
    assert inspect["Running"] is False and inspect["ExitCode"] == 3
    assert inspect["ContainerID"] == cid and inspect["Pid"] > 0
    assert inspect["ProcessConfig"] == {"tty": False, "entrypoint": "sh",
                                        "arguments": ["-c", "cat; echo done >&2; exit 3"],
                                        "privileged": False, "user": ""}
    assert (inspect["OpenStdin"], inspect["OpenStdout"], inspect["OpenStderr"]) == (
        True, True, True)
    again = open_stream(api.socket, "POST", f"/exec/{exec_id}/start", {"Tty": False})
    try:
        text = joined(demux(again.read_all()), "stdout")
    finally:
        again.close()
    assert text == f"Error: Exec command {exec_id} has already run\r\n".encode()


def test_exec_start_without_upgrade_is_a_raw_200_body(engine: ContainerEngine,
                                                      api: DockerApi) -> None:
    cid = run_detached(engine, "-t", "busybox", "sleep", "600")
    exec_id = exec_create(api, cid, ["echo", "raw"], AttachStdout=True, Tty=True)
    stream = open_stream(api.socket, "POST", f"/exec/{exec_id}/start", {"Tty": True},
                         upgrade=False)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"] == "application/vnd.docker.raw-stream"
        assert "transfer-encoding" not in stream.headers
        assert stream.read_all() == b"raw\r\n"  # a terminal's output, unframed
    finally:
        stream.close()


def test_exec_detach_inspect_resize_and_errors(engine: ContainerEngine,
                                               api: DockerApi) -> None:
    cid = run_detached(engine, "busybox", "sleep", "600")
    exec_id = exec_create(api, cid, ["sh", "-c", "read x"], AttachStdin=True, Tty=True)
    before = api.http("GET", f"/exec/{exec_id}/json").json()
    assert (before["Running"], before["ExitCode"], before["Pid"]) == (False, None, 0)
    started = api.http("POST", f"/exec/{exec_id}/start", {"Detach": True})
    assert (started.status, started.body) == (200, b"")
    running = api.http("GET", f"/exec/{exec_id}/json").json()
    assert running["Running"] is True and running["Pid"] > 0
    assert api.http("POST", f"/exec/{exec_id}/resize?h=30&w=100").status == 200
    missing = api.http("GET", "/exec/nosuchexec/json")
    assert (missing.status, missing.json()) == (404, {"message":
                                                      "No such exec instance: nosuchexec"})
    empty = api.http("POST", f"/containers/{cid}/exec", {"Cmd": []})
    assert (empty.status, empty.json()["message"]) == (400, "No exec command specified")
    engine.pyctl("stop", "-t", "1", cid, check=True)
    stopped = api.http("POST", f"/containers/{cid}/exec", {"Cmd": ["true"]})
    assert stopped.status == 409
    assert stopped.json()["message"] == f"Container {cid} is not running"


def test_logs_multiplexed_tail_timestamps_and_tty_raw(engine: ContainerEngine,
                                                    api: DockerApi) -> None:
    cid = run_detached(engine, "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
    assert engine.pyctl("wait", cid, check=True).stdout.strip() == b"0"
    reply = api.http("GET", f"/v1.41/containers/{cid}/logs?stdout=1&stderr=1")
    assert reply.status == 200
    frames = demux(reply.body)
    # each stream in its order (two pipes: their interleaving is the copiers')
    assert joined(frames, "stdout") == b"one\nthree\n" and joined(frames, "stderr") == b"two\n"
    assert sorted(s for s, _ in frames) == ["stderr", "stdout", "stdout"]
    only_out = demux(api.http("GET", f"/containers/{cid}/logs?stdout=1&tail=1").body)
    assert only_out == [("stdout", b"three\n")]
    stamped = demux(api.http("GET", f"/containers/{cid}/logs?stderr=1&timestamps=1").body)
    stamp, _, line = stamped[0][1].partition(b" ")
    assert line == b"two\n" and stamp.endswith(b"Z") and len(stamp) == 30
    none = api.http("GET", f"/containers/{cid}/logs")
    assert (none.status, none.json()["message"]) == (
        400, "Bad parameters: you must choose at least one stream")
    tty = run_detached(engine, "-t", "busybox", "echo", "on a tty")
    engine.pyctl("wait", tty, check=True)
    assert api.http("GET", f"/containers/{tty}/logs?stdout=1").body == b"on a tty\r\n"


def test_logs_follow_and_attach_stdin(engine: ContainerEngine, api: DockerApi) -> None:
    """logs?follow=1 streams until the container exits; attach's stdin reaches it."""
    cid = run_detached(engine, "-i", "busybox", "sh", "-c", "echo one; read x; echo got $x")
    follow = open_stream(api.socket, "GET", f"/containers/{cid}/logs?stdout=1&follow=1",
                         upgrade=False)
    attach = open_stream(api.socket, "POST",
                         f"/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1")
    try:
        assert follow.status == 200 and attach.status == 101
        assert b"one\n" in follow.read_until(b"one\n")
        attach.send(b"two\n")
        assert joined(demux(attach.read_all()), "stdout") == b"got two\n"
        body = follow.read_until(b"\r\n0\r\n\r\n")  # the last chunk: the stream ended
        assert b"got two\n" in body
    finally:
        follow.close()
        attach.close()
    assert engine.pyctl("wait", cid, check=True).stdout.strip() == b"0"


def test_attach_tty_detach_keys_then_exit(engine: ContainerEngine, api: DockerApi) -> None:
    cid = run_detached(engine, "-it", "busybox", "sh")
    path = f"/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x"
    first = open_stream(api.socket, "POST", path)
    try:
        first.send(b"echo hi$((40+2))\n")
        first.read_until(b"hi42")
        first.send(b"\x18")  # ctrl-x: detach; the daemon ends the session
        first.read_all()
    finally:
        first.close()
    state = json.loads(engine.pyctl("inspect", cid, check=True).stdout)[0]["State"]
    assert state["Running"] is True
    second = open_stream(api.socket, "POST", path)
    try:
        second.send(b"exit 3\n")
        second.read_all()
    finally:
        second.close()
    assert engine.pyctl("wait", cid, check=True).stdout.strip() == b"3"



def test_attach_without_stdin_once_ends_with_the_clients_input(engine: ContainerEngine,
                                                               api: DockerApi) -> None:
    """docker's rule for a container without StdinOnce (run -di): the client's EOF ends its
    attach session, and the container's stdin stays open for the next client."""
    cid = run_detached(engine, "-i", "busybox", "sh", "-c",
                       "while read x; do echo got $x; done; echo stdin closed")
    path = f"/containers/{cid}/attach?stream=1&stdin=1&stdout=1"
    first = open_stream(api.socket, "POST", path)
    try:
        first.send(b"a\n")
        first.read_until(b"got a\n")
        first.close_write()
        first.read_all()  # the daemon ends the session
    finally:
        first.close()
    second = open_stream(api.socket, "POST", path)
    try:
        second.send(b"b\n")
        assert b"got b\n" in second.read_until(b"got b\n")
    finally:
        second.close()
    assert api.docker("inspect", "-f", "{{.State.Running}}", cid).stdout == "true\n"

# -- the docker CLI 28 and docker-py -------------------------------------------------------


def docker_terminal(api: DockerApi, *args: str) -> Terminal:
    """The docker CLI under a pty (its -t wants a terminal)."""
    return Terminal(["docker", *args], api.env(), rows=24, cols=80)


def test_cli_exec_plain_piped_and_exit_code(engine: ContainerEngine, api: DockerApi) -> None:
    cid = run_detached(engine, "busybox", "sleep", "600")
    assert api.docker("exec", cid, "echo", "hi").stdout == "hi\n"
    piped = api.docker("exec", "-i", cid, "sh", "-c", "cat; echo e >&2", input="piped\n")
    assert (piped.stdout, piped.stderr) == ("piped\n", "e\n")
    assert api.docker("exec", cid, "sh", "-c", "exit 7", check=False).returncode == 7
    # dockerd 20.10: 126 whatever the cause, the runtime's message (as containerd words it)
    # on the exec's stream
    missing = api.docker("exec", cid, "no-such-command", check=False)
    assert missing.returncode == 126
    assert missing.stdout.startswith("OCI runtime exec failed: "), missing.stdout
    assert missing.stdout.endswith(
        'exec: "no-such-command": executable file not found in $PATH: unknown\n')


def test_cli_exec_it_under_a_pty(engine: ContainerEngine, api: DockerApi) -> None:
    cid = run_detached(engine, "busybox", "sleep", "600")
    term = docker_terminal(api, "exec", "-it", cid, "sh")
    try:
        term.type(b"echo $((6*7))x $(stty size)\r")  # the size the CLI posts at the start
        term.expect(re.escape(b"42x 24 80"))
        term.resize(33, 101)  # SIGWINCH: the CLI posts /exec/{id}/resize
        for _ in range(50):  # the resize and the typing race: ask again until it is in
            term.type(b"stty size\r")
            if term.expect(rb"\r\n(\d+ \d+)\r\n").group(1) == b"33 101":
                break
        else:
            raise AssertionError("the exec's terminal never took the window's size")
        term.type(b"exit 5\r")
        assert term.finish()[0] == 5
    finally:
        term.close()


def test_cli_logs_tail_since_timestamps_and_follow(engine: ContainerEngine,
                                                   api: DockerApi) -> None:
    done = run_detached(engine, "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
    engine.pyctl("wait", done, check=True)
    logs = api.docker("logs", done)
    assert (logs.stdout, logs.stderr) == ("one\nthree\n", "two\n")
    lines = run_detached(engine, "busybox", "sh", "-c", "echo one; echo two; echo three")
    engine.pyctl("wait", lines, check=True)
    assert api.docker("logs", "--tail", "2", lines).stdout == "two\nthree\n"
    stamped = api.docker("logs", "-t", done).stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "three"]
    assert api.docker("logs", "--since", "2100-01-01T00:00:00Z", done).stdout == ""
    cid = run_detached(engine, "-i", "busybox", "sh", "-c", "echo first; read x; echo last $x")
    follow = subprocess.Popen(["docker", "logs", "-f", cid], env=api.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == b"first\n"
        attach = open_stream(api.socket, "POST", f"/containers/{cid}/attach?stream=1&stdin=1")
        try:
            attach.send(b"go\n")
            attach.read_all()
        finally:
            attach.close()
        out, err = follow.communicate(timeout=120)  # ends as the container does
        assert (out, err, follow.returncode) == (b"last go\n", b"", 0)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()


def test_cli_attach_detach_keys(engine: ContainerEngine, api: DockerApi) -> None:
    """docker attach under a pty: typing reaches the shell, ctrl-p ctrl-q detaches and leaves
    it running, `exit` ends the next session with the container."""
    cid = run_detached(engine, "-it", "busybox", "sh")
    term = docker_terminal(api, "attach", cid)
    try:
        term.type(b"echo at$((1+1))ached\r")
        term.expect(re.escape(b"at2ached"))
        term.type(b"\x10\x11")  # ctrl-p ctrl-q
        term.expect(re.escape(b"read escape sequence"))  # the CLI's EscapeError: status 1
        assert term.finish()[0] == 1
    finally:
        term.close()
    assert api.docker("inspect", "-f", "{{.State.Running}}", cid).stdout == "true\n"
    again = docker_terminal(api, "attach", cid)
    try:
        again.type(b"exit 4\r")
        assert again.finish()[0] == 4  # the container's status, through /wait
    finally:
        again.close()


def test_docker_py_exec_run_demux_and_log_stream(engine: ContainerEngine,
                                                 api: DockerApi) -> None:
    cid = run_detached(engine, "-i", "busybox", "sh", "-c", "echo a; read x; echo b; echo c >&2")
    client = api.client()
    try:
        exec_id = client.api.exec_create(cid, ["sh", "-c", "echo out; echo err >&2"])["Id"]
        assert client.api.exec_start(exec_id, demux=True) == (b"out\n", b"err\n")
        assert client.api.exec_inspect(exec_id)["ExitCode"] == 0
        lines = client.api.logs(cid, stream=True, follow=True)
        assert next(lines) == b"a\n"
        sock = client.api.attach_socket(cid, params={"stdin": 1, "stream": 1})
        try:
            sock._sock.sendall(b"go\n")
        finally:
            sock.close()
        assert sorted(lines) == [b"b\n", b"c\n"]  # until the container exits
    finally:
        client.close()



def test_attach_logs_replay_and_a_client_gone_mid_session(engine: ContainerEngine,
                                                          api: DockerApi) -> None:
    """attach?logs=1 replays the stored output (stream=0: only that); a client that goes away
    mid-session, reading nothing, holds the container's output up no longer than its end."""
    cid = run_detached(engine, "-i", "busybox", "sh", "-c", "echo ready; read x; seq 1 300000")
    replay = open_stream(api.socket, "POST", f"/containers/{cid}/attach?stream=1&stdin=1"
                         "&stdout=1&logs=1")
    try:
        assert demux(replay.read_until(b"ready\n")) == [("stdout", b"ready\n")]
        replay.send(b"go\n")
        replay.read_until(b"\n")  # the output has started
    finally:
        replay.close()  # gone, with far more than a subscriber's buffer still to come
    assert engine.pyctl("wait", cid, check=True).stdout.strip() == b"0"
    stored = open_stream(api.socket, "POST", f"/containers/{cid}/attach?logs=1&stdout=1")
    try:
        text = joined(demux(stored.read_all()), "stdout")
    finally:
        stored.close()
    assert text.startswith(b"ready\n1\n") and text.endswith(b"\n300000\n")


def test_cli_run_it_under_a_pty(api: DockerApi) -> None:
    """docker run -it: attach before start, the shell's terminal, its exit status."""
    term = docker_terminal(api, "run", "-it", "--rm", "busybox", "sh")
    try:
        term.expect(re.escape(b"# "))
        term.type(b"echo $((6*7))x\r")
        term.expect(re.escape(b"42x"))
        term.type(b"exit 3\r")
        assert term.finish()[0] == 3
    finally:
        term.close()


def test_cli_run_attached_piped_and_start_a(api: DockerApi) -> None:
    """docker run -a / -i without a terminal (multiplexed), and start -a."""
    run = api.docker("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo e >&2; exit 2",
                     input="in\n", check=False)
    assert (run.returncode, run.stdout, run.stderr) == (2, "in\n", "e\n")
    only_err = api.docker("run", "--rm", "-a", "stderr", "busybox", "sh", "-c",
                          "echo o; echo e >&2")
    assert (only_err.stdout, only_err.stderr) == ("", "e\n")
    cid = api.docker("create", "busybox", "echo", "started").stdout.strip()
    assert api.docker("start", "-a", cid).stdout == "started\n"
    detached = api.docker("run", "-d", "-it", "busybox", "sh").stdout.strip()
    term = docker_terminal(api, "attach", "--detach-keys", "ctrl-x", detached)
    try:
        term.type(b"echo k$((1+1))\r")
        term.expect(re.escape(b"k2"))
        term.type(b"\x18")
        term.expect(re.escape(b"read escape sequence"))
        assert term.finish()[0] == 1
    finally:
        term.close()
    assert api.docker("inspect", "-f", "{{.State.Running}}", detached).stdout == "true\n"


def test_docker_py_run_detached_logs_stream_and_exec_run(api: DockerApi) -> None:
    client = api.client()
    try:
        container = client.containers.run(
            "busybox", ["sh", "-c", "echo a; echo b >&2; sleep 600"], detach=True)
        lines = container.logs(stream=True, follow=True)
        assert sorted([next(lines), next(lines)]) == [b"a\n", b"b\n"]
        code, (out, err) = container.exec_run(["sh", "-c", "echo x; echo y >&2; exit 1"],
                                              demux=True)
        assert (code, out, err) == (1, b"x\n", b"y\n")
        container.remove(force=True)
    finally:
        client.close()
