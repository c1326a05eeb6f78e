"""pyctl events through pyengined: docker's container and image event sets, its line format
and '{{json .}}', --filter, --since/--until replay and a live stream."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine
from engine_harness import env

pytestmark = [pytest.mark.root]

LINE_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d)) (\w+) "
                     r"(\S+(?: [^(]*)?) ([^\s(]\S*)(?: \((.*)\))?")


def _replay(engine: ContainerEngine, since: int, *args: str) -> list[str]:
    """The events from `since` (ns) to now, each line."""
    return engine.out("events", "--since", f"{since // 10**9}.{since % 10**9:09d}",
                      "--until", f"{time.time_ns() / 1e9:.9f}", *args).splitlines()


def _actions(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        match = LINE_RE.fullmatch(line)
        assert match, line
        out.append(match.group(3))
    return out


def test_a_containers_lifecycle_in_dockers_line_format(engine: ContainerEngine) -> None:
    since = time.time_ns()
    cid = engine.out("run", "-d", "--name", "life", "-l", "tier=web", "busybox",
                     "sleep", "1000").strip()
    exec_result = engine.pyctl("exec", "life", "sh", "-c", "exit 4")
    assert exec_result.returncode == 4
    engine.out("kill", "-s", "USR1", "life")
    engine.out("rename", "life", "life2")
    engine.out("restart", "-t", "0", "life2")
    engine.out("stop", "-t", "0", "life2")
    engine.out("rm", "life2")
    lines = _replay(engine, since, "--filter", "container=" + cid[:12])
    assert _actions(lines) == [
        "create", "start", "exec_create: sh -c exit 4", "exec_start: sh -c exit 4",
        "exec_die", "kill", "rename", "kill", "kill", "die", "stop", "start", "restart",
        "kill", "kill", "die", "stop", "destroy"]
    first = LINE_RE.fullmatch(lines[0])
    assert first is not None
    assert (first.group(2), first.group(4), first.group(5)) == (
        "container", cid, "image=busybox, name=life, tier=web")
    by_action = {LINE_RE.fullmatch(line).group(3): line for line in lines}  # type: ignore[union-attr]
    assert "exitCode=4" in by_action["exec_die"] and "execID=" in by_action["exec_die"]
    assert "signal=10" in lines[5]
    assert "oldName=/life" in by_action["rename"] and "name=life2" in by_action["rename"]
    # docker's stop -t 0: its stop signal, then SIGKILL (sleep as PID 1 ignores SIGTERM)
    assert ["signal=15" in lines[-5], "signal=9" in lines[-4]] == [True, True]
    assert "exitCode=137" in lines[-3]
    since = time.time_ns()
    engine.out("run", "-d", "--name", "forced", "busybox", "sleep", "1000")
    engine.out("rm", "-f", "forced")
    assert _actions(_replay(engine, since, "-f", "container=forced")) == [
        "create", "start", "kill", "die", "destroy"]


def test_filters_and_the_json_format(engine: ContainerEngine) -> None:
    since = time.time_ns()
    engine.out("run", "--rm", "--name", "one", "-l", "team=a", "busybox", "true")
    engine.out("run", "--rm", "--name", "two", "busybox", "true")
    assert _actions(_replay(engine, since, "-f", "event=start")) == ["start", "start"]
    starts = _replay(engine, since, "-f", "event=start", "-f", "container=two")
    assert len(starts) == 1 and "name=two" in starts[0]
    assert _actions(_replay(engine, since, "-f", "label=team=a")) == [
        "create", "attach", "start", "die", "destroy"]  # run in the foreground attaches
    assert _replay(engine, since, "-f", "type=image") == []
    docs = [json.loads(line) for line in
            _replay(engine, since, "-f", "container=one", "--format", "{{json .}}")]
    assert [d["Action"] for d in docs] == ["create", "attach", "start", "die", "destroy"]
    doc = docs[3]
    assert (doc["status"], doc["Type"], doc["from"], doc["scope"]) == (
        "die", "container", "busybox", "local")
    assert doc["Actor"]["Attributes"] == {"exitCode": "0", "image": "busybox",
                                          "name": "one", "team": "a"}
    assert doc["id"] == doc["Actor"]["ID"] and doc["time"] == doc["timeNano"] // 10**9
    names = _replay(engine, since, "-f", "event=destroy", "--format",
                    "{{.Actor.Attributes.name}}")
    assert names == ["one", "two"]
    result = engine.pyctl("events", "-f", "bogus=1", "--until", "0s")
    assert result.returncode == 1 and b"bogus" in result.stderr


def test_image_events(engine: ContainerEngine, tmp_path: Path) -> None:
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("hello")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    (tmp_path / "rootfs.tar").write_bytes(layer.getvalue())
    since = time.time_ns()
    image_id = engine.out("import", str(tmp_path / "rootfs.tar"), "events-test:1").strip()
    engine.out("tag", "events-test:1", "events-test:2")
    engine.out("rmi", "events-test:2")
    engine.out("rmi", "events-test:1")
    lines = _replay(engine, since, "-f", "type=image")
    assert _actions(lines) == ["import", "tag", "tag", "untag", "untag", "delete"]
    assert all(LINE_RE.fullmatch(line).group(2) == "image" for line in lines)  # type: ignore[union-attr]
    assert image_id.removeprefix("sha256:") in lines[-1]
    assert _actions(_replay(engine, since, "-f", "image=events-test:2")) == ["tag", "untag"]


def test_a_live_stream_ends_at_until(engine: ContainerEngine) -> None:
    """Events from a stream started before the container: --since covers the time between
    the start of the stream and its subscription."""
    since = time.time_ns()
    stream = subprocess.Popen(
        [sys.executable, "-m", "pyengine.cli", "events", "--since",
         f"{since / 1e9:.9f}", "--filter", "container=live", "--format", "{{.Action}}"],
        env={**env(), "PYENGINE_HOST": engine.host, "PYCTL_CONFIG": str(engine.base / "client")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        engine.out("run", "--rm", "--name", "live", "busybox", "true")
        assert stream.stdout is not None
        seen = []
        while (raw := stream.stdout.readline()) and raw.strip() != b"destroy":
            seen.append(raw.decode().strip())
        assert raw, stream.stderr.read() if stream.stderr else ""  # ended before destroy
        assert seen == ["create", "attach", "start", "die"]
    finally:
        stream.kill()
        stream.wait()
    ended = engine.pyctl("events", "--since", f"{since / 1e9:.9f}", "--until", "0s",
                         "--filter", "container=live")
    assert ended.returncode == 0 and len(ended.stdout.splitlines()) == 5


def test_pull_and_push_events(make_engine: Callable[..., ContainerEngine], registry) -> None:
    engine = make_engine(module_network=True)  # the registry listens in the module's netns
    remote = f"{registry.host}/events/bb:1"
    since = time.time_ns()
    engine.out("tag", "busybox", remote)
    engine.out("push", remote)
    engine.out("rmi", remote)
    engine.out("pull", remote)
    lines = _replay(engine, since, "-f", "type=image")
    # rmi of the pushed tag untags the tag and then the repo@digest reference the push
    # recorded (the repository's last tag gone: docker's ImageDelete), an event for each
    assert _actions(lines) == ["tag", "push", "untag", "untag", "pull"]
    pull = LINE_RE.fullmatch(lines[-1])
    assert pull is not None
    # docker's pull event: the tagged name as the id, the repository as its name
    assert (pull.group(4), pull.group(5)) == (remote, f"name={registry.host}/events/bb")
    assert lines[1].endswith(f" image push {remote} (name={registry.host}/events/bb)")


def test_an_interactive_exec_has_its_events_too(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "--name", "exec-i", "busybox", "sleep", "1000").strip()
    since = time.time_ns()
    result = engine.pyctl("exec", "-i", "exec-i", "sh", "-c", "cat; exit 5", input=b"in\n")
    assert (result.returncode, result.stdout) == (5, b"in\n"), result.stderr
    lines = _replay(engine, since, "-f", "container=exec-i")
    assert _actions(lines) == ["exec_create: sh -c cat; exit 5", "exec_start: sh -c cat; exit 5",
                               "exec_die"]
    assert "exitCode=5" in lines[-1]
    exec_ids = {re.search(r"execID=(\w+)", line).group(1) for line in lines}  # type: ignore[union-attr]
    assert len(exec_ids) == 1
    engine.out("rm", "-f", cid)
