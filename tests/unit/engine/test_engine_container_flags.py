"""docker's create/run flag values, ps filters and formats, and events (filters, --since and
--until, the line and JSON formats), checked against what docker prints and accepts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pyengine.cli import container_opts
from pyengine.cli.context import CliError
from pyengine.containers.model import Container


def test_memory_takes_go_units_binary_sizes() -> None:
    assert container_opts.ram_in_bytes("64m") == 64 << 20
    assert container_opts.ram_in_bytes("1.5g") == 3 << 29
    assert container_opts.ram_in_bytes("512MB") == 512 << 20
    assert container_opts.ram_in_bytes("1024") == 1024
    assert container_opts.ram_in_bytes("2 k") == 2048
    for bad in ("abc", "1x", "-1m", ""):
        with pytest.raises(ValueError, match=f"invalid size: '{bad}'"):
            container_opts.ram_in_bytes(bad)


def _args(*argv: str) -> object:
    import argparse

    parser = argparse.ArgumentParser()
    container_opts.add(parser)
    return parser.parse_args([*argv, "busybox"])


def test_bad_flag_values_get_dockers_messages() -> None:
    cases = {
        ("-m", "1x"): 'invalid argument "1x" for "-m, --memory" flag: invalid size: \'1x\'',
        ("--cpus", "abc"): 'invalid argument "abc" for "--cpus" flag: failed to parse abc as '
                           'a rational number',
        ("--cpus", "0.0000000001"): 'invalid argument "0.0000000001" for "--cpus" flag: '
                                    'value is too precise',
        ("--pids-limit", "x"): 'invalid argument "x" for "--pids-limit" flag: '
                               'strconv.ParseInt: parsing "x": invalid syntax',
        ("--stop-timeout", "1.5"): 'invalid argument "1.5" for "--stop-timeout" flag: '
                                   'strconv.ParseInt: parsing "1.5": invalid syntax',
    }
    for argv, message in cases.items():
        with pytest.raises(CliError) as caught:
            container_opts.request(_args(*argv))  # type: ignore[arg-type]  # a Namespace
        assert str(caught.value) == message
        assert caught.value.usage


def test_good_values_reach_the_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = tmp_path / "labels"
    labels.write_text("# comment\n\na=from-file\n  bare\nc=3\n")
    monkeypatch.setenv("FROM_CLIENT", "yes")
    monkeypatch.delenv("NOT_SET", raising=False)
    r = container_opts.request(_args(  # type: ignore[arg-type]  # a Namespace
        "-m", "64m", "--cpus", "3/2", "--pids-limit", "-1", "--stop-timeout", "0", "--init",
        "--network", "host", "-e", "FROM_CLIENT", "-e", "NOT_SET", "-e", "X=1",
        "--label-file", str(labels), "-l", "a=flag", "-l", "k"))
    assert (r.memory, r.nano_cpus, r.pids_limit) == (64 << 20, 1_500_000_000, -1)
    assert (r.stop_timeout, r.stop_timeout_set, r.init, r.network) == (0, True, True, "host")
    assert list(r.env) == ["FROM_CLIENT=yes", "X=1"]
    assert dict(r.labels) == {"a": "flag", "bare": "", "c": "3", "k": ""}


def test_a_label_file_with_a_bad_key(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_text("a b=1\n")
    with pytest.raises(CliError, match="poorly formatted label file: variable 'a b' "):
        container_opts.labels_of([], [str(path)])


def test_a_missing_image_is_reported_with_its_tag() -> None:
    assert container_opts.tagged("busybox") == "busybox:latest"
    assert container_opts.tagged("127.0.0.1:5000/x") == "127.0.0.1:5000/x:latest"
    assert container_opts.tagged("x:1") == "x:1"
    assert container_opts.tagged("x@sha256:" + "a" * 64) == "x@sha256:" + "a" * 64


# -- since/until ----------------------------------------------------------------------------

def test_since_and_until_values() -> None:
    from pyengine.cli.timestamps import go_duration, parse

    now = 1_800_000_000 * 10**9
    assert go_duration("1h30m") == 5400 * 10**9
    assert go_duration("1.5s") == 1_500_000_000
    assert go_duration("250ms") == 250_000_000
    assert go_duration("10") is None and go_duration("10x") is None
    assert parse("10m", "--since", now) == now - 600 * 10**9
    assert parse("1700000000.5", "--since", now) == 1_700_000_000_500_000_000
    assert parse("1700000000", "--since", now) == 1_700_000_000 * 10**9
    assert parse("2023-11-14T22:13:20Z", "--since", now) == 1_700_000_000 * 10**9
    assert parse("2023-11-14T22:13:20.123456789Z", "--since", now) == \
        1_700_000_000_123_456_789
    assert parse("2023-11-14T23:13:20+01:00", "--since", now) == 1_700_000_000 * 10**9
    assert parse("", "--since", now) == 0
    with pytest.raises(CliError, match='invalid value for "--until"'):
        parse("yesterday", "--until", now)


def test_event_line_and_json_are_dockers(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from pyengine.api import system_pb2
    from pyengine.cli.verb_events import line
    from pyengine.event_message import docker_message as message

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        event = system_pb2.Event(type="container", action="start", id="c" * 64,
                                 attributes={"name": "x", "image": "busybox"},
                                 time_nano=1_700_000_000_000_000_042)
        assert line(event) == ("2023-11-14T22:13:20.000000042Z container start " + "c" * 64 +
                               " (image=busybox, name=x)")
        doc = message(event)
        assert list(doc) == ["status", "id", "from", "Type", "Action", "Actor", "scope",
                             "time", "timeNano"]
        assert doc["from"] == "busybox" and doc["Actor"]["Attributes"]["name"] == "x"
        assert json.loads(json.dumps(doc))["time"] == 1_700_000_000
        bare = system_pb2.Event(type="image", action="pull", id="busybox:latest",
                                time_nano=1_700_000_000 * 10**9)
        assert line(bare).endswith(" image pull busybox:latest")
        monkeypatch.setenv("TZ", "CET-1")
        time.tzset()
        assert line(bare).startswith("2023-11-14T23:13:20.000000000+01:00 ")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_event_filters_follow_docker() -> None:
    from pyengine.events import Event, parse_filters

    start = Event("container", "start", "abcdef" + "0" * 58,
                  {"name": "web", "image": "busybox:latest", "tier": "front"})
    exec_start = Event("container", "exec_start: sh -c true", "abcdef" + "0" * 58,
                       {"name": "web", "image": "busybox:latest", "execID": "e"})
    tag = Event("image", "tag", "sha256:" + "1" * 64, {"name": "busybox:latest"})

    def match(event: Event, *filters: str) -> bool:
        return parse_filters(list(filters)).matches(event)

    assert match(start, "container=abcdef") and match(start, "container=web")
    assert not match(start, "container=we") and not match(tag, "container=web")
    assert match(exec_start, "event=exec_start") and not match(exec_start, "event=start")
    assert match(start, "event=stop", "event=start")
    assert match(start, "image=busybox") and match(tag, "image=busybox")
    assert match(tag, "image=sha256:" + "1" * 64)
    assert match(start, "label=tier") and match(start, "label=tier=front")
    assert not match(start, "label=tier=back") and not match(tag, "label=tier")
    assert match(start, "type=container", "event=start") and not match(tag, "type=container")


def test_the_bus_replays_since_and_ends_at_until() -> None:
    import time

    from pyengine.events import EventBus, Filters

    async def scenario() -> tuple[list[str], list[str]]:
        bus = EventBus()
        bus.bind(asyncio.get_running_loop())
        bus.publish("container", "create", "a")
        await asyncio.sleep(0)
        middle = time.time_ns()
        bus.publish("container", "start", "a")
        bus.publish("image", "tag", "b")
        await asyncio.sleep(0)
        replay = bus.subscribe(Filters({"type": {"container"}}), since=middle,
                               until=time.time_ns())
        got = [e.action async for e in replay]
        replay.close()
        ended = bus.subscribe(since=1, until=time.time_ns() + 200_000_000)
        later = [e.action async for e in ended]  # the kept three, then the end at until
        ended.close()
        return got, later

    got, later = asyncio.run(scenario())
    assert got == ["start"]
    assert later == ["create", "start", "tag"]


# -- ps -------------------------------------------------------------------------------------

def _container(cid: str, status: str = "running", exit_code: int = 0, image: str = "busybox",
               labels: dict[str, str] | None = None) -> Container:
    from pyengine.containers.model import Spec, State

    return Container(id=cid * 64, name="n" + cid, image_id="sha256:" + "f" * 64,
                     image_name=image, snapshot=cid, created="", spec=Spec(labels=labels or {}),
                     state=State(status=status, exit_code=exit_code))


def test_ps_filters_follow_docker() -> None:
    from pyengine.containers import list_filters
    from pyengine.errors import InvalidArgument, NotFound

    newest_first = [_container("c", "exited", 3), _container("b", "running",
                                                             labels={"k": "v"}),
                    _container("a", "exited", 0, image="busybox:latest")]

    def ids(*filters: str, all_: bool = False) -> str:
        chosen = list_filters.select(newest_first, list_filters.parse(list(filters)), all_,
                                     {"nb": "b" * 64, "b": "b" * 64})
        return "".join(c.id[0] for c in chosen)

    assert ids() == "b" and ids(all_=True) == "cba"
    assert ids("exited=3", all_=True) == "c" and ids("exited=0", all_=True) == "a"
    assert ids("status=exited") == "ca"  # a status filter lists stopped ones too
    assert ids("before=nb") == "a" and ids("since=b") == "c"
    assert ids("ancestor=busybox:latest", all_=True) == "cba"
    assert ids("ancestor=ffff", all_=True) == "cba"
    assert ids("label=k") == "b" and ids("label=k=w") == ""
    assert ids("health=none") == "b" and ids("health=healthy") == ""
    assert ids("name=b", "name=c", all_=True) == "cb" and ids("id=ccc", all_=True) == "c"
    for bad, message in (("foo=1", "Invalid filter 'foo'"),
                         ("status=up", "Invalid filter 'status=up'"),
                         ("exited=x", 'strconv.Atoi: parsing "x": invalid syntax')):
        with pytest.raises(InvalidArgument, match=message):
            list_filters.parse([bad])
    # a before/since container removed between its resolution and the listing
    with pytest.raises(NotFound, match="No such container: gone"):
        list_filters.select(newest_first, list_filters.parse(["since=gone"]), False,
                            {"gone": "z" * 64})


def test_ps_size_and_label_fields() -> None:
    from pyengine.api import containers_pb2
    from pyengine.cli.output import write_rows
    from pyengine.cli.verb_ps import HEADERS, row, size_text

    assert size_text(0, 1_234_567) == "0B (virtual 1.23MB)"
    assert size_text(4096, 0) == "4.1kB"
    summary = containers_pb2.ContainerSummary(
        id="d" * 64, names=["/web"], image="busybox", command="sleep 1000000000000000",
        created=1_700_000_000, status="Up 2 seconds", labels={"k": "v"}, size_rw=12,
        size_root_fs=1_000_012)
    fields = row(summary, no_trunc=False)
    assert fields["Command"] == '"sleep 1000000000000…"'
    import io

    out = io.StringIO()
    write_rows(out, [fields], 'table {{.ID}}\t{{.Names}}\t{{.Size}}\t{{.Label "k"}}', "",
               HEADERS)
    assert out.getvalue().splitlines() == [
        "CONTAINER ID   NAMES     SIZE                LABEL",
        "dddddddddddd   web       12B (virtual 1MB)   v"]


def test_the_daemon_refuses_what_docker_refuses() -> None:
    import os

    from pyengine.containers import create_checks
    from pyengine.containers.model import Spec
    from pyengine.errors import InvalidArgument

    cpus = len(os.sched_getaffinity(0))
    create_checks.check(Spec(memory=6 << 20, nano_cpus=cpus * 10**9, network="host",
                             stop_signal="SIGUSR1"))
    cases: list[tuple[Spec, type[Exception], str]] = [
        (Spec(memory=(6 << 20) - 1), InvalidArgument, "Minimum memory limit allowed is 6MB"),
        (Spec(nano_cpus=cpus * 10**9 + 1), InvalidArgument,
         f"Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"),
        (Spec(stop_signal="SIGNOPE"), InvalidArgument, "Invalid signal: SIGNOPE"),
    ]
    for spec, error, message in cases:
        with pytest.raises(error) as caught:
            create_checks.check(spec)
        assert str(caught.value) == message


def test_init_wraps_the_command_and_mounts_the_init_read_only() -> None:
    from pyengine.containers import create_checks
    from pyengine.containers.model import Spec

    config: dict = {"process": {"args": ["sh", "-c", "true"]}, "mounts": [],
                    "linux": {"resources": {}}}
    create_checks.apply(config, Spec(init=True, nano_cpus=1_500_000_000))
    assert config["process"]["args"] == ["/sbin/docker-init", "--", "sh", "-c", "true"]
    mount = config["mounts"][-1]
    assert (mount["destination"], mount["type"], mount["options"]) == (
        "/sbin/docker-init", "bind", ["rbind", "ro"])
    assert Path(mount["source"]).name in create_checks.INIT_BINARIES
    assert config["linux"]["resources"]["cpu"] == {"quota": 150_000, "period": 100_000}
