"""Pieces of containerd-shim-pyrunc-v2 that need no root: its command line, the reaper, stdio
plumbing with real fifos and pipes, events through our ttrpc, `delete`'s answer, and its
imports (never grpc, never the engine's other domains)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import empty_pb2
from pyengine.shim import main as shim_main
from pyengine.shim.api import EVENTS_SERVICE, events_pb2, shim_pb2, task_events_pb2
from pyengine.shim.events import Publisher
from pyengine.shim.stdio import ProcessIO
from pyengine.shim.ttrpc.server import Context, Server, unary

ENGINE = str(Path(__file__).resolve().parents[3] / "engine")
LONG = 60  # a bound on things that happen, never a measurement


@pytest.fixture
def tmp() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="pyshim-"))
    try:
        yield directory
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def _python(code: str, *args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": os.pathsep.join([ENGINE, *sys.path[1:]]), "PATH": os.environ["PATH"]}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=LONG, check=False)


def test_flags_as_containerd_passes_them() -> None:
    flags = shim_main.parse(["-namespace", "ns", "-address", "/run/c.sock", "-publish-binary",
                             "/usr/bin/containerd", "-id", "c1", "-debug", "start"])
    assert (flags.namespace, flags.address, flags.publish_binary, flags.id, flags.debug,
            flags.action) == ("ns", "/run/c.sock", "/usr/bin/containerd", "c1", True, "start")
    flags = shim_main.parse(["--namespace=ns", "-id", "c2", "-bundle", "/b", "delete"])
    assert (flags.namespace, flags.id, flags.bundle, flags.action) == ("ns", "c2", "/b",
                                                                       "delete")
    with pytest.raises(ValueError, match="not defined: -bogus"):
        shim_main.parse(["-bogus", "start"])
    with pytest.raises(ValueError, match="needs an argument"):
        shim_main.parse(["-id"])


def test_socket_name_depends_on_address_namespace_and_id() -> None:
    a = shim_main.parse(["-namespace", "ns", "-address", "/a", "-id", "c"])
    b = shim_main.parse(["-namespace", "ns", "-address", "/b", "-id", "c"])
    assert shim_main.socket_path(a) != shim_main.socket_path(b)
    assert shim_main.socket_path(a).startswith("/run/containerd/s/")
    assert len(shim_main.socket_path(a)) < 108  # sun_path


def test_reaper_matches_exits_and_leaves_no_zombie() -> None:
    # In a child interpreter: the reaper makes its process a subreaper and reaps everything.
    code = textwrap.dedent("""
        import asyncio, json, os
        from pyengine.shim.reaper import Reaper

        def spawn(script):
            return os.posix_spawn("/bin/sh", ["sh", "-c", script], {})

        async def main():
            reaper = Reaper()
            reaper.install(asyncio.get_running_loop())
            three = spawn("exit 3")
            killed = spawn("kill -9 $$")
            # an orphan: its parent exits at once, the subreaper inherits and reaps it
            orphan_parent = spawn("sleep 0.2 & echo $! > orphan.pid")
            early = spawn("exit 7")
            results = await asyncio.gather(reaper.watch(three), reaper.watch(killed),
                                           reaper.watch(orphan_parent))
            await asyncio.sleep(0)
            late = await reaper.watch(early)  # exited before anyone asked: kept
            orphan = int(open("orphan.pid").read())
            while os.path.exists(f"/proc/{orphan}"):
                await asyncio.sleep(0.05)  # gone entirely once reaped: no zombie
            print(json.dumps([*results, late]))

        asyncio.run(main())
    """)
    with tempfile.TemporaryDirectory() as cwd:
        result = _python(code, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [3, 137, 0, 7]


def test_stdio_fifos_and_close_stdin(tmp: Path) -> None:
    for name in ("in", "out", "err"):
        os.mkfifo(tmp / name)

    async def scenario() -> tuple[bytes, bytes, int]:
        # the client's ends, as ctr opens them: it reads stdout/stderr, writes stdin
        out_r = os.open(tmp / "out", os.O_RDONLY | os.O_NONBLOCK)
        err_r = os.open(tmp / "err", os.O_RDONLY | os.O_NONBLOCK)
        io = ProcessIO.open(str(tmp / "in"), str(tmp / "out"), str(tmp / "err"), False)
        in_w = os.open(tmp / "in", os.O_WRONLY)
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", "cat; echo done >&2"], {}, file_actions=[
            (os.POSIX_SPAWN_DUP2, io.child.stdin, 0), (os.POSIX_SPAWN_DUP2, io.child.stdout, 1),
            (os.POSIX_SPAWN_DUP2, io.child.stderr, 2)])
        io.spawned()
        os.write(in_w, b"hello\n")
        io.close_stdin()  # what was written still arrives, then cat sees the end
        loop = asyncio.get_running_loop()
        _, status = await asyncio.wait_for(loop.run_in_executor(None, os.waitpid, pid, 0), LONG)
        io.close()
        os.close(in_w)
        outs = []
        for fd in (out_r, err_r):
            os.set_blocking(fd, True)
            outs.append(os.read(fd, 100))
            assert os.read(fd, 100) == b""  # no writer left: the client sees the end
            os.close(fd)
        return outs[0], outs[1], os.waitstatus_to_exitcode(status)

    assert asyncio.run(scenario()) == (b"hello\n", b"done\n", 0)


def test_file_uri_gets_both_streams(tmp: Path) -> None:
    uri = f"file://{tmp}/logs/out.log"
    io = ProcessIO.open("", uri, uri, False)
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "echo one; echo two >&2"], {}, file_actions=[
        (os.POSIX_SPAWN_DUP2, io.child.stdin, 0), (os.POSIX_SPAWN_DUP2, io.child.stdout, 1),
        (os.POSIX_SPAWN_DUP2, io.child.stderr, 2)])
    io.spawned()
    os.waitpid(pid, 0)
    io.close()
    assert (tmp / "logs" / "out.log").read_text() == "one\ntwo\n"


def test_resize_without_a_terminal_is_no_error(tmp: Path) -> None:
    """As containerd's runc shim: ResizePty of a process without a terminal does nothing."""
    uri = f"file://{tmp}/log"
    io = ProcessIO.open("", uri, uri, False)
    try:
        io.resize(80, 24)
    finally:
        io.close()


def test_unsupported_stdio_scheme_is_invalid_argument() -> None:
    from pyengine.shim.ttrpc import errors

    with pytest.raises(errors.InvalidArgument, match="binary://"):
        ProcessIO.open("", "binary:///usr/bin/logger", "", False)


def test_events_forwarded_with_namespace_topic_and_timestamp(tmp: Path) -> None:
    async def scenario() -> list[events_pb2.ForwardRequest]:
        got: list[events_pb2.ForwardRequest] = []
        arrived = asyncio.Event()

        async def forward(ctx: Context, req: events_pb2.ForwardRequest) -> empty_pb2.Empty:
            got.append(req)
            if len(got) == 2:
                arrived.set()
            return empty_pb2.Empty()

        server = Server()
        server.register(EVENTS_SERVICE, {"Forward": unary(events_pb2.ForwardRequest, forward)})
        await server.listen(str(tmp / "ev.sock"))
        publisher = Publisher(str(tmp / "ev.sock"), "ns1")
        publisher.publish(task_events_pb2.TaskStart(container_id="c1", pid=42))
        publisher.publish(task_events_pb2.TaskExit(container_id="c1", id="c1", exit_status=3))
        await asyncio.wait_for(arrived.wait(), LONG)
        await publisher.close()
        await server.close()
        return got

    first, second = asyncio.run(scenario())
    assert (first.envelope.namespace, first.envelope.topic) == ("ns1", "/tasks/start")
    assert first.envelope.event.type_url == "containerd.events.TaskStart"
    assert first.envelope.timestamp.seconds > 0
    assert task_events_pb2.TaskStart.FromString(first.envelope.event.value).pid == 42
    assert (second.envelope.topic, second.envelope.event.type_url) == (
        "/tasks/exit", "containerd.events.TaskExit")


def test_a_dead_events_endpoint_never_blocks(tmp: Path) -> None:
    async def scenario() -> None:
        publisher = Publisher(str(tmp / "nobody.sock"), "ns1")
        for n in range(3):
            publisher.publish(task_events_pb2.TaskOOM(container_id=f"c{n}"))  # returns at once
        await asyncio.wait_for(publisher.close(), LONG)

    asyncio.run(scenario())


def test_delete_answers_a_delete_response(tmp: Path) -> None:
    (tmp / "pyshim-runtime").write_text(f"true\n{tmp}/root\n")  # a runtime that accepts all
    (tmp / "init.pid").write_text("4242")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from pyengine.shim.main import main; "
         "sys.exit(main())", "-namespace", "ns", "-address", "/x", "-id", "c1", "-bundle",
         str(tmp), "delete"], capture_output=True, env={"PYTHONPATH": os.pathsep.join(
             [ENGINE, *sys.path[1:]]), "PATH": os.environ["PATH"]}, timeout=LONG, check=False)
    assert result.returncode == 0, result.stderr
    response = shim_pb2.DeleteResponse.FromString(result.stdout)
    assert (response.pid, response.exit_status) == (4242, 137)
    assert response.exited_at.seconds > 0


def test_imports_stay_lean() -> None:
    code = textwrap.dedent("""
        import sys
        import pyengine.shim.main, pyengine.shim.server_main
        bad = [m for m in sys.modules if m.split(".")[0] == "grpc"
               or (m.startswith("pyengine.") and not m.startswith("pyengine.shim"))]
        print(",".join(bad))
    """)
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_reserve_asks_the_running_shim(tmp: Path) -> None:
    from pyengine.shim import group
    from pyengine.shim.reaper import Reaper
    from pyengine.shim.service import TaskService

    path = str(tmp / "shim.sock")

    async def scenario() -> tuple[int | None, int | None, int | None]:
        server = Server()
        service = TaskService("ns", str(tmp), Publisher("", "ns"), Reaper(), server,
                              lambda: None)
        server.register(group.SERVICE, service.group_methods())
        await server.listen(path)
        loop = asyncio.get_running_loop()
        taken = await loop.run_in_executor(None, group.reserve, path, "c1")
        assert "c1" in service.reserved
        service.leaving = True  # after its last Shutdown: new containers go elsewhere
        refused = await loop.run_in_executor(None, group.reserve, path, "c2")
        await server.close()
        nobody = await loop.run_in_executor(None, group.reserve, str(tmp / "none.sock"), "c3")
        return taken, refused, nobody

    assert asyncio.run(scenario()) == (os.getpid(), None, None)
