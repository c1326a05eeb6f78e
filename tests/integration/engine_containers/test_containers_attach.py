"""Interactive containers under a real pseudo-terminal: `run -it`, window resizes, detaching
with ctrl-p ctrl-q and attaching again, `exec -it`, `run -i` with piped stdin, `run -a`,
`start -a -i`, and docker's "the input device is not a TTY"; with containerd's Go shim and with
ours (the daemon's shim-binary option)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from ctr_harness import SHIMS, ContainerEngine, shim_config, shim_pid
from engine_harness import env

from tests.fixtures.terminal import WAIT
from tests.fixtures.terminal import Terminal as PtyTerminal

pytestmark = [pytest.mark.root]

@pytest.fixture(scope="module", params=SHIMS)
def engine(request: pytest.FixtureRequest, make_engine: Callable[..., ContainerEngine]
           ) -> ContainerEngine:
    """One engine per shim (named `engine` so conftest's clean-up after each test applies)."""
    return make_engine(config=shim_config(request.param,
                                          request.getfixturevalue("pyrunc_shim")))


class Terminal(PtyTerminal):
    """pyctl on the slave side of a new pty, as its controlling terminal (terminal.py)."""

    def __init__(self, engine: ContainerEngine, *args: str, rows: int = 31,
                 cols: int = 97) -> None:
        run_env = env()
        run_env.update(PYENGINE_HOST=engine.host, PYCTL_CONFIG=str(engine.base / "client"))
        super().__init__([sys.executable, "-m", "pyengine.cli", *args], run_env, rows=rows,
                         cols=cols)


def _state(engine: ContainerEngine, ref: str) -> dict:
    return json.loads(engine.out("inspect", "--type", "container", ref))[0]["State"]


def _shell_ready(term: Terminal) -> None:
    """The shell runs and reads its terminal (an answer to what we typed is the proof)."""
    term.type(b"echo rea''dy\r")
    term.expect(rb"ready\r\n[^\r\n]*# \x1b\[6n")  # busybox's prompt asks where the cursor is


def test_run_it_shell_output_and_exit_status(engine: ContainerEngine) -> None:
    term = Terminal(engine, "run", "-it", "--rm", "--name", "it-exit", "busybox", "sh")
    try:
        _shell_ready(term)
        term.type(b"echo $((40+2)); [ -t 0 ] && echo on-a-tty; exit 3\r")
        term.expect(rb"42\r\non-a-tty\r\n")
        code, _ = term.finish()
        assert code == 3
    finally:
        term.close()
    assert "it-exit" not in engine.out("ps", "-a")


def test_window_size_and_its_changes_reach_the_container(engine: ContainerEngine) -> None:
    term = Terminal(engine, "run", "-it", "--rm", "busybox", "sh", rows=33, cols=101)
    try:
        _shell_ready(term)
        term.type(b"stty size\r")
        term.expect(rb"\r\n33 101\r\n")
        term.resize(40, 120)  # the kernel sends pyctl SIGWINCH; it sends the new size
        term.type(b"stty size\r")
        term.expect(rb"\r\n40 120\r\n")
        term.type(b"exit\r")
        assert term.finish()[0] == 0
    finally:
        term.close()


def test_detach_keys_leave_it_running_and_attach_comes_back(engine: ContainerEngine) -> None:
    name = "detach-me"
    since = time.time_ns()
    term = Terminal(engine, "run", "-it", "--name", name, "busybox", "sh")
    try:
        _shell_ready(term)
        term.type(b"\x10")  # ctrl-p alone is held back, then ctrl-q completes the keys
        term.type(b"\x11")
        code, rest = term.finish()
        assert (code, rest) == (0, b"")  # nothing more is printed
    finally:
        term.close()
    try:
        assert _state(engine, name)["Running"] is True
        again = Terminal(engine, "attach", name)
        try:
            _shell_ready(again)  # the same shell: what was typed before detaching is kept
            again.type(b"echo $((6*7)); exit 4\r")
            again.expect(rb"42\r\n")
            assert again.finish()[0] == 4
        finally:
            again.close()
        assert _state(engine, name)["ExitCode"] == 4
        # other keys: a prefix followed by something else passes through
        term = Terminal(engine, "start", "-a", "-i", "--detach-keys", "a,b", name)
        try:
            _shell_ready(term)
            term.type(b"echo ca")
            term.type(b"t\r")
            term.expect(rb"\r\ncat\r\n/ # \x1b\[6n")
            term.type(b"a")
            term.type(b"b")
            assert term.finish() == (0, b"")
        finally:
            term.close()
        assert _state(engine, name)["Running"] is True
        # docker's events: each attach, and a detach for each session the keys ended
        assert engine.out("events", "--since", f"{since / 1e9:.9f}", "--until", "0s",
                          "-f", f"container={name}", "-f", "event=attach", "-f",
                          "event=detach", "--format", "{{.Action}}").split() == [
            "attach", "detach", "attach", "attach", "detach"]
    finally:
        engine.pyctl("rm", "-f", name)


def test_exec_it_into_a_running_container(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    try:
        term = Terminal(engine, "exec", "-it", "-e", "X=5", "-w", "/tmp", cid, "sh",
                        rows=27, cols=88)
        try:
            _shell_ready(term)
            term.type(b"echo $X $(pwd) $(stty size) $TERM; tty; exit 7\r")
            term.expect(rb"5 /tmp 27 88 xterm\r\n/dev/pts/\d+\r\n")
            assert term.finish()[0] == 7
        finally:
            term.close()
        # an exec detached by its keys runs on; -d starts one in the background
        term = Terminal(engine, "exec", "-it", cid, "sh")
        try:
            _shell_ready(term)
            term.type(b"\x10\x11")
            assert term.finish() == (0, b"")
        finally:
            term.close()
        assert engine.pyctl("exec", "-d", cid, "sh", "-c", "echo bg > /tmp/bg").returncode == 0
        for _ in range(200):  # -d answers once it started, not once it is done
            if engine.pyctl("exec", cid, "cat", "/tmp/bg").stdout == b"bg\n":
                break
            time.sleep(0.1)
        else:
            raise AssertionError("exec -d did not run")
        piped = engine.pyctl("exec", "-i", cid, "sh", "-c", "cat; echo end", input=b"in\n")
        assert (piped.returncode, piped.stdout) == (0, b"in\nend\n")
        missing = engine.pyctl("exec", "-i", cid, "no-such-command", input=b"")
        # docker exec: 126 for any start failure, the reason on stdout
        assert missing.returncode == 126 and b"no-such-command" in missing.stdout
        bundle = engine.exec_root / "containers" / cid
        assert _state(engine, cid)["Running"] is True
    finally:
        engine.pyctl("rm", "-f", cid)
    assert not bundle.exists()


def test_run_i_with_piped_stdin_and_run_a(engine: ContainerEngine) -> None:
    piped = subprocess.run(f"echo hi | {sys.executable} -m pyengine.cli run -i --rm busybox cat",
                           shell=True, capture_output=True, timeout=300,
                           env={**env(), "PYENGINE_HOST": engine.host})
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, b"hi\n", b"")
    # binary input, detach keys inside: without a tty nothing is scanned or cut
    data = os.urandom(1 << 23) + b"\x10\x11" + os.urandom(1 << 20)
    summed = engine.pyctl("run", "-i", "--rm", "busybox", "md5sum", input=data)
    assert (summed.returncode, summed.stdout) == (0, f"{hashlib.md5(data).hexdigest()}  -\n"
                                                     .encode())
    only_out = engine.pyctl("run", "--rm", "-a", "stdout", "busybox", "sh", "-c",
                            "echo out; echo err >&2; exit 2")
    assert (only_out.returncode, only_out.stdout, only_out.stderr) == (2, b"out\n", b"")
    only_err = engine.pyctl("run", "--rm", "-a", "STDERR", "busybox", "sh", "-c",
                            "echo out; echo err >&2")
    assert (only_err.returncode, only_err.stdout, only_err.stderr) == (0, b"", b"err\n")
    # -t without -i: no input to check; the output is the terminal's, one stream
    tty_only = engine.pyctl("run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo err >&2",
                            input=b"")
    assert tty_only.returncode == 0 and tty_only.stderr == b""
    assert re.fullmatch(rb"/dev/pts/\d+\r\nerr\r\n", tty_only.stdout), tty_only.stdout
    bad = engine.pyctl("run", "--rm", "-a", "stdfoo", "busybox", "true")
    assert bad.returncode == 125 and b"valid streams are STDIN, STDOUT and STDERR" in bad.stderr
    keys = engine.pyctl("run", "--rm", "--name", "bad-keys", "--detach-keys", "ctrl-1",
                        "busybox", "true")
    assert keys.returncode == 125 and b"Invalid detach keys (ctrl-1) provided" in keys.stderr
    assert "bad-keys" not in engine.out("ps", "-a")


def test_start_a_i_feeds_a_created_container(engine: ContainerEngine) -> None:
    cid = engine.out("create", "-i", "busybox", "sh", "-c", "read line; echo got $line").strip()
    try:
        result = engine.pyctl("start", "-a", "-i", cid, input=b"abc\n")
        assert (result.returncode, result.stdout) == (0, b"got abc\n")
        # attach needs a running container
        stopped = engine.pyctl("attach", cid, input=b"")
        assert stopped.returncode == 1
        assert b"You cannot attach to a stopped container, start it first" in stopped.stderr
    finally:
        engine.pyctl("rm", "-f", cid)


def test_tty_without_a_terminal_is_refused(engine: ContainerEngine) -> None:
    result = engine.pyctl("run", "-it", "--rm", "--name", "no-tty", "busybox", "sh", input=b"")
    assert (result.returncode, result.stderr) == (1, b"the input device is not a TTY\n")
    assert "no-tty" not in engine.out("ps", "-a")
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    try:
        exec_ = engine.pyctl("exec", "-it", cid, "sh", input=b"")
        assert (exec_.returncode, exec_.stderr) == (1, b"the input device is not a TTY\n")
        keys = engine.pyctl("exec", "-i", "--detach-keys", "ctrl-1", cid, "sh", input=b"")
        assert b"Invalid detach keys (ctrl-1) provided" in keys.stderr
    finally:
        engine.pyctl("rm", "-f", cid)



def test_hundreds_of_attached_clients_each_get_every_byte(engine: ContainerEngine) -> None:
    """200 Attach streams on one running container: each gets the whole output and the exit
    code, and the daemon answers other calls meanwhile."""
    import asyncio

    import grpc.aio
    from pyengine.api import containers_pb2, containers_pb2_grpc

    cid = engine.out("run", "-d", "busybox", "sh", "-c",
                     "while [ ! -e /tmp/go ]; do sleep 0.1; done; seq 1 20000; exit 5").strip()
    expected = b"".join(b"%d\n" % n for n in range(1, 20001))

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(f"unix:{engine.socket}") as channel:
            stub = containers_pb2_grpc.ContainersServiceStub(channel)

            calls = [stub.Attach(iter([containers_pb2.AttachInput(
                id=cid, stdout=True, stderr=True)])) for _ in range(200)]
            for call in calls:
                await call.initial_metadata()  # subscribed

            async def drain(call: grpc.aio.StreamStreamCall) -> tuple[bytes, int]:
                out, code = [], -1
                async for message in call:
                    if message.exited:
                        code = message.exit_code
                    out.append(message.data)
                return b"".join(out), code

            readers = [asyncio.ensure_future(drain(call)) for call in calls]
            started = await stub.ExecStream(iter([containers_pb2.ExecInput(
                start=containers_pb2.ExecRequest(id=cid, cmd=["touch", "/tmp/go"]),
                detach=True)])).read()
            assert started is grpc.aio.EOF
            listed = await stub.List(containers_pb2.ListContainersRequest(all=True))
            assert [c.id for c in listed.containers] == [cid]
            results = await asyncio.gather(*readers)
            assert all(result == (expected, 5) for result in results)

    try:
        asyncio.run(scenario())
    finally:
        engine.pyctl("rm", "-f", cid)


def test_a_stuck_client_is_dropped_when_it_goes_away(engine: ContainerEngine) -> None:
    """A client that reads nothing holds the output back (more than gRPC's windows and the
    subscriber's buffer hold); once it is killed, the container's output flows again, into
    the log, to the end."""
    cid = engine.out("run", "-d", "busybox", "sh", "-c",
                     "while [ ! -e /tmp/go ]; do sleep 0.1; done; "
                     "head -c 33554432 /dev/zero | tr '\\0' x; echo; echo done >&2").strip()
    run_env = {**env(), "PYENGINE_HOST": engine.host}
    stuck = subprocess.Popen([sys.executable, "-m", "pyengine.cli", "attach", cid],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=run_env)
    try:
        assert stuck.stdout is not None
        assert engine.pyctl("exec", cid, "touch", "/tmp/go").returncode == 0
        assert stuck.stdout.read(4096).startswith(b"x")  # attached, then reads no more
        stuck.kill()
        stuck.wait()
        assert engine.out("wait", cid).strip() == "0"
        logged = [json.loads(line) for line in
                  (engine.data_root / "containers" / cid / f"{cid}-json.log").open()]
        assert [e["log"] for e in logged if e["stream"] == "stderr"] == ["done\n"]
        assert sum(len(e["log"]) for e in logged if e["stream"] == "stdout") == (1 << 25) + 1
    finally:
        if stuck.poll() is None:
            stuck.kill()
            stuck.wait()
        engine.pyctl("rm", "-f", cid)


def test_a_paused_container_refuses_attach_and_exec(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "-i", "busybox", "cat").strip()
    try:
        engine.out("pause", cid)
        attach = engine.pyctl("attach", cid, input=b"")
        assert attach.returncode == 1
        assert b"You cannot attach to a paused container, unpause it first" in attach.stderr
        exec_ = engine.pyctl("exec", "-i", cid, "true", input=b"")
        assert exec_.returncode == 1 and b"is paused, unpause the container" in exec_.stderr
        engine.out("unpause", cid)
        assert engine.pyctl("exec", cid, "true").returncode == 0
    finally:
        engine.pyctl("rm", "-f", cid)



TRAPPER = 'trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.1; done'
TICKER = 'trap "echo got INT; exit 7" INT; while :; do echo ready; sleep 0.1; done'


def _attached(engine: ContainerEngine, *args: str,
              stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """pyctl attached without a tty (its stdin /dev/null), once the container said ready."""
    run_env = {**env(), "PYENGINE_HOST": engine.host}
    proc = subprocess.Popen([sys.executable, "-m", "pyengine.cli", *args],
                            stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=run_env)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def _ended(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    out, _ = proc.communicate(timeout=WAIT)
    return proc.returncode, out.replace(b"ready\n", b"")


def test_sig_proxy_sends_pyctls_signals_to_the_container(engine: ContainerEngine) -> None:
    """docker's --sig-proxy (the default without -t): SIGINT to pyctl reaches the container,
    whose trap answers; pyctl exits with the container's status. start -a and attach proxy
    too; start -a of a running container attaches to it."""
    cid = engine.out("create", "-i", "busybox", "sh", "-c", TICKER).strip()
    proc = _attached(engine, "run", "--rm", "--name", "proxied", "busybox", "sh", "-c", TRAPPER)
    second: subprocess.Popen[bytes] | None = None
    try:
        proc.send_signal(signal.SIGINT)
        assert _ended(proc) == (7, b"got INT\n")
        assert "proxied" not in engine.out("ps", "-a")
        proc = _attached(engine, "start", "-a", cid)
        second = _attached(engine, "start", "-a", cid)  # running already: it attaches
        second.send_signal(signal.SIGINT)
        assert _ended(second) == (7, b"got INT\n")
        assert _ended(proc) == (7, b"got INT\n")
        for args in (("attach", cid), ("attach", "--no-stdin", cid)):
            engine.out("start", cid)
            proc = _attached(engine, *args)
            proc.send_signal(signal.SIGINT)
            assert _ended(proc) == (7, b"got INT\n"), args
            assert _state(engine, cid)["ExitCode"] == 7
    finally:
        for each in (proc, second):
            if each is not None and each.poll() is None:
                each.kill()
                each.wait()
        engine.pyctl("rm", "-f", "proxied", cid)


def test_sig_proxy_false_leaves_the_container_running(engine: ContainerEngine) -> None:
    proc = _attached(engine, "run", "--sig-proxy=false", "--name", "unproxied", "busybox", "sh",
                     "-c", TRAPPER)
    try:
        proc.send_signal(signal.SIGINT)
        assert _ended(proc)[0] == 130
        assert _state(engine, "unproxied")["Running"] is True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.pyctl("rm", "-f", "unproxied")


def test_attach_no_stdin_keeps_pyctls_input_from_the_container(engine: ContainerEngine) -> None:
    """attach --no-stdin: what pyctl reads goes nowhere, while another client's input does."""
    cid = engine.out("run", "-d", "-i", "busybox", "sh", "-c",
                     'exec 3<&0; while read l <&3; do echo "got $l"; done & '
                     "while :; do echo ready; sleep 0.1; done").strip()
    clients: list[subprocess.Popen[bytes]] = []
    try:
        clients.append(_attached(engine, "attach", "--no-stdin", cid, stdin=subprocess.PIPE))
        without, = clients
        assert without.stdin is not None and without.stdout is not None
        without.stdin.write(b"ignored\n")
        without.stdin.flush()
        clients.append(_attached(engine, "attach", cid, stdin=subprocess.PIPE))
        feeder = clients[1]
        assert feeder.stdin is not None
        feeder.stdin.write(b"fed\n")
        feeder.stdin.flush()
        line = without.stdout.readline()
        while line == b"ready\n":
            line = without.stdout.readline()
        assert line == b"got fed\n"
    finally:
        engine.pyctl("rm", "-f", cid)
        for each in clients:
            if each.poll() is None:
                each.kill()
            each.communicate()


def _anonymous_files(pid: int) -> set[str]:
    """The sockets and pipes `pid` holds ("socket:[inode]", "pipe:[inode]")."""
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith(("socket:[", "pipe:[")):
            out.add(target)
    return out


def test_a_shim_holds_none_of_the_daemons_sockets_or_pipes(engine: ContainerEngine) -> None:
    """A shim outlives the daemon (live restore): a daemon socket or pipe passed on to it would
    stay open for the shim's life (and one of the `start` call's output pipes would never
    reach EOF, hanging the start: uvloop's spawn leaves them to the child)."""
    cid = engine.out("run", "-d", "busybox", "sleep", "600").strip()
    try:
        assert engine.process is not None
        shared = _anonymous_files(shim_pid(engine, cid)) & _anonymous_files(engine.process.pid)
        assert shared == set()
    finally:
        engine.out("rm", "-f", cid)
